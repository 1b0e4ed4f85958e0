"""The caseload summary rows roll over at each client's midnight: the notification worker's tick
recomputes the rows left from an earlier local day, across clinics, a few at a time, so the
first dashboard read of the day finds them current."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import event
from sqlmodel import select

from kapjourney import db
from kapjourney.clock import as_utc
from kapjourney.domain.enums import Role
from kapjourney.domain.models import CheckIn, ClientSummary, Clinic, Course, User
from kapjourney.notifications import worker
from kapjourney.notifications.dispatch import Dispatcher
from kapjourney.services import dashboard
from tests.push_fakes import RecordingTransport

NY, TOKYO = ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")
# Friday 20 Nov 2026, 12:00 UTC: 07:00 in New York and 21:00 in Tokyo, the 20th in both.
BUILT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TOKYO_MIDNIGHT = datetime(2026, 11, 21, 0, 5, tzinfo=TOKYO)  # 10:05 on the 20th in New York
NY_MIDNIGHT = datetime(2026, 11, 21, 0, 5, tzinfo=NY)  # 14:05 on the 21st in Tokyo


def frozen(at: datetime):
    return time_machine.travel(at, tick=False)


def _client(s, clinic_id: int, name: str, tz: str) -> User:
    client = User(
        clinic_id=clinic_id,
        role=Role.CLIENT,
        email=f"{name.lower()}@rollover.example",
        display_name=name,
        timezone=tz,
        created_at=datetime(2026, 11, 1, 9, tzinfo=UTC),
    )
    s.add(client)
    s.flush()
    s.add(Course(client_id=client.id, clinic_id=clinic_id, start_date=date(2026, 11, 1)))
    # Last check-in on the 18th, local: "within 2 days" on the 20th, "within 7 days" on the 21st.
    at = datetime.combine(date(2026, 11, 18), time(19), tzinfo=ZoneInfo(tz))
    s.add(
        CheckIn(
            client_id=client.id,
            clinic_id=clinic_id,
            local_date=date(2026, 11, 18),
            status="submitted",
            mood=3,
            anxiety=2,
            sleep=3,
            captured_at=at,
            submitted_at=at,
        )
    )
    return client


@pytest.fixture
def clients(engine, personas) -> dict[str, int]:
    """A client in New York (the personas' clinic) and one in Tokyo (another clinic), and every
    row built at ``BUILT``."""
    with frozen(BUILT), db.session_scope(engine) as s:
        home = personas.client.clinic_id
        other = s.exec(select(Clinic.id).where(Clinic.id != home)).first()
        ids = {
            "ny": _client(s, home, "Nora", "America/New_York").id,
            "tokyo": _client(s, other, "Taro", "Asia/Tokyo").id,
        }
    with frozen(BUILT), db.session_scope(engine) as s:
        dashboard.refresh_all(s)
    return ids


def rows(engine) -> dict[int, ClientSummary]:
    with db.session_scope(engine) as s:
        return {r.client_id: r for r in s.exec(select(ClientSummary)).all()}


def dumped(engine) -> dict[int, dict]:
    return {client_id: row.model_dump() for client_id, row in rows(engine).items()}


def tick(at: datetime) -> worker.Tick:
    with frozen(at):
        return worker.tick(Dispatcher(RecordingTransport(), worker="rollover-test"))


def test_rows_built_yesterday_are_refreshed_by_a_tick_at_five_past_midnight_in_each_zone(
    engine, clients
):
    before = rows(engine)
    assert {r.computed_for for r in before.values()} == {date(2026, 11, 20)}
    assert before[clients["tokyo"]].recency == before[clients["ny"]].recency == "2d"

    # Five past midnight in Tokyo: only Taro's day has turned.
    assert tick(TOKYO_MIDNIGHT).rolled_over == 1
    after = rows(engine)
    taro, nora = after[clients["tokyo"]], after[clients["ny"]]
    assert (taro.computed_for, taro.recency) == (date(2026, 11, 21), "7d")
    assert as_utc(taro.computed_at) == TOKYO_MIDNIGHT.astimezone(UTC)
    assert nora.model_dump() == before[clients["ny"]].model_dump()  # untouched

    # Five past midnight in New York: the three New York clients' rows (Nora, and the personas'
    # two), whatever their clinic.
    assert tick(NY_MIDNIGHT).rolled_over == 3
    after = rows(engine)
    nora = after[clients["ny"]]
    assert (nora.computed_for, nora.recency) == (date(2026, 11, 21), "7d")
    assert {r.computed_for for r in after.values()} == {date(2026, 11, 21)}
    assert after[clients["tokyo"]].model_dump() == taro.model_dump()


def test_a_tick_with_nothing_stale_recomputes_nothing(engine, clients):
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    before = dumped(engine)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        result = tick(BUILT + timedelta(hours=1))  # 08:00 in New York, 22:00 in Tokyo
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert result.rolled_over == 0
    assert dumped(engine) == before  # computed_at and every figure unchanged
    touched = [s for s in statements if "clientsummary" in s.lower()]
    # The roll-over looked once (one query for the clients' zones, one for stale rows) and wrote
    # nothing: no claim, no recomputation.
    assert len(touched) == 1 and touched[0].lstrip().upper().startswith("SELECT")
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in touched)


def test_a_tick_recomputes_at_most_its_limit_in_batches(engine, clients, monkeypatch):
    monkeypatch.setattr(worker, "ROLLOVER_PER_TICK", 3)
    monkeypatch.setattr(worker, "ROLLOVER_BATCH", 2)
    batches: list[int] = []
    real = dashboard.refresh_stale_rows

    def counted(session, at, limit):
        made = real(session, at, limit=limit)
        batches.append(made)
        return made

    monkeypatch.setattr(dashboard, "refresh_stale_rows", counted)
    day_after = NY_MIDNIGHT + timedelta(days=1)  # every row (four clients) is stale
    assert tick(day_after).rolled_over == 3
    assert batches == [2, 1]  # two transactions: a batch of two, then the one left in the limit
    assert sorted(r.computed_for for r in rows(engine).values()) == [
        date(2026, 11, 20),
        *[date(2026, 11, 22)] * 3,
    ]
    assert tick(day_after).rolled_over == 1  # the next tick takes the rest
    assert {r.computed_for for r in rows(engine).values()} == {date(2026, 11, 22)}


def test_the_neediest_rows_roll_over_first(engine, clients):
    with db.session_scope(engine) as s:
        taro = s.get(ClientSummary, clients["tokyo"])
        taro.attention = 128
        s.add(taro)
    with frozen(NY_MIDNIGHT + timedelta(days=1)), db.session_scope(engine) as s:
        assert dashboard.refresh_stale_rows(s, limit=1) == 1
    assert rows(engine)[clients["tokyo"]].computed_for == date(2026, 11, 22)


def test_a_row_another_worker_rolled_over_meanwhile_is_not_recomputed_again(
    engine, clients, monkeypatch
):
    at = NY_MIDNIGHT
    with frozen(at), db.session_scope(engine) as s:
        seen = dashboard._stale_rows(s, at, 10)  # what a second worker read a moment ago
    assert {client_id for client_id, _ in seen} >= {clients["ny"]}
    with frozen(at), db.session_scope(engine) as s:  # the first worker takes them all
        assert dashboard.refresh_stale_rows(s, at, limit=10) == len(seen)
    recomputed: list[int] = []
    monkeypatch.setattr(dashboard, "_stale_rows", lambda *_args, **_kw: seen)
    monkeypatch.setattr(
        dashboard, "refresh_summary", lambda _s, client_id, _at=None: recomputed.append(client_id)
    )
    with frozen(at), db.session_scope(engine) as s:
        assert dashboard.refresh_stale_rows(s, at, limit=10) == 0
    assert recomputed == []


def test_a_row_that_cannot_be_recomputed_is_marked_stale_and_the_tick_goes_on(
    engine, clients, monkeypatch
):
    real = dashboard.refresh_summary

    def broken_for_nora(session, client_id, at=None):
        if client_id == clients["ny"]:
            raise RuntimeError("boom")
        return real(session, client_id, at)

    monkeypatch.setattr(dashboard, "refresh_summary", broken_for_nora)
    assert tick(NY_MIDNIGHT).rolled_over == 4  # New York's three and Tokyo's one
    after = rows(engine)
    assert after[clients["ny"]].computed_for == dashboard.STALE  # retried by the next tick
    assert {r.computed_for for k, r in after.items() if k != clients["ny"]} == {date(2026, 11, 21)}
