"""Caseload dashboard benchmark (a script, not a test): N clients with a year of daily check-ins,
weekly PHQ-9 and GAD-7, some alerts, sessions and devices; summaries built; then the server time
of ``services.dashboard.caseload`` for page 1 (median of 20 calls, each its own transaction with
its audit row), for the admin (the whole clinic) and for one clinician (an even share); then the
first reads after midnight with and without the worker's roll-over ticks in between.

    .venv/bin/python benchmarks/dashboard_bench.py                   # SQLite, in a temp dir
    .venv/bin/python benchmarks/dashboard_bench.py --db postgresql+psycopg://user@host/postgres

With PostgreSQL the URL names a server and a database to connect to; the benchmark creates its own
scratch database there and drops it afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import time_machine  # noqa: E402
from sqlalchemy import select  # noqa: E402

from benchmarks.support import bulk, say, scratch_database  # noqa: E402
from kapjourney import db  # noqa: E402
from kapjourney.clock import local_today, now  # noqa: E402
from kapjourney.domain.enums import CourseStatus, DosingStatus, Role  # noqa: E402
from kapjourney.domain.models import (  # noqa: E402
    Alert,
    CheckIn,
    Clinic,
    ClinicianAssignment,
    Course,
    DosingSession,
    PushSubscription,
    QuestionnaireResponse,
    User,
)
from kapjourney.domain.schemas import Actor  # noqa: E402
from kapjourney.notifications import worker  # noqa: E402
from kapjourney.services import dashboard  # noqa: E402
from kapjourney.services.uow import unit_of_work  # noqa: E402

TZ = "America/New_York"
CLINICIANS = 10


def seed(engine, n: int, days: int) -> tuple[Actor, Actor]:
    rng = random.Random(6)  # noqa: S311 - repeatable bench data
    at = now()
    today = local_today(TZ, at)
    start = today - timedelta(days=days)
    created = datetime.combine(start, datetime.min.time(), tzinfo=ZoneInfo(TZ))
    with db.session_scope(engine) as s:
        clinic = Clinic(name="Bench clinic", slug="bench", timezone=TZ)
        s.add(clinic)
        s.flush()
        cid = clinic.id
        people = [
            {"clinic_id": cid, "role": Role.ADMIN, "email": "admin@bench.example",
             "display_name": "Admin", "timezone": TZ, "created_at": created, "is_active": True}
        ] + [
            {"clinic_id": cid, "role": Role.CLINICIAN, "email": f"c{i}@bench.example",
             "display_name": f"Clinician {i}", "timezone": TZ, "created_at": created,
             "is_active": True}
            for i in range(CLINICIANS)
        ] + [
            {"clinic_id": cid, "role": Role.CLIENT, "email": f"k{i}@bench.example",
             "display_name": f"Client {i:04d}", "timezone": TZ, "created_at": created,
             "is_active": True}
            for i in range(n)
        ]  # fmt: skip
        bulk(s, User, people)
        users = {u.email: u for u in s.execute(select(User).where(User.clinic_id == cid)).scalars()}
        staff = [users[f"c{i}@bench.example"] for i in range(CLINICIANS)]
        clients = [users[f"k{i}@bench.example"] for i in range(n)]
        bulk(
            s,
            ClinicianAssignment,
            [
                {"clinician_id": staff[i % CLINICIANS].id, "client_id": c.id, "created_at": at}
                for i, c in enumerate(clients)
            ],
        )
        bulk(
            s,
            Course,
            [
                {"client_id": c.id, "clinic_id": cid, "status": CourseStatus.DOSING,
                 "start_date": start, "planned_sessions": 6, "created_at": created,
                 "pcl5_enabled": False, "screening_requested_at": created}
                for c in clients
            ],
        )  # fmt: skip
        courses = dict(s.execute(select(Course.client_id, Course.id)).all())
        checkins, scores, alerts, sessions, devices = [], [], [], [], []
        for i, c in enumerate(clients):
            adherence = rng.uniform(0.3, 0.98)
            silent = rng.randrange(0, 20) if i % 5 == 0 else 0
            for n_day in range(days - silent):
                day = start + timedelta(days=n_day)
                if rng.random() < adherence:
                    stamp = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(
                        hours=23
                    )
                    checkins.append(
                        {"client_id": c.id, "clinic_id": cid, "local_date": day,
                         "status": "submitted", "mood": rng.randint(1, 5),
                         "anxiety": rng.randint(1, 5), "sleep": rng.randint(1, 5), "note": "",
                         "late": rng.random() < 0.08, "captured_at": stamp,
                         "submitted_at": stamp, "updated_at": stamp}
                    )  # fmt: skip
            for week in range(days // 7):
                stamp = created + timedelta(days=7 * week, hours=10)
                for key, top in (("phq9", 27), ("gad7", 21)):
                    score = max(0, min(top, int(top * 0.6 - week * 0.15 + rng.uniform(-3, 3))))
                    scores.append(
                        {"client_id": c.id, "clinic_id": cid, "instrument": key,
                         "instrument_version": "1", "purpose": "scheduled",
                         "status": "submitted", "answers": "{}", "score": score, "band": "",
                         "flags": "[]", "started_at": stamp, "updated_at": stamp,
                         "submitted_at": stamp}
                    )  # fmt: skip
            if i % 10 == 0:
                for severity, status in (("urgent", "open"), ("routine", "resolved")):
                    alerts.append(
                        {"clinic_id": cid, "client_id": c.id, "severity": severity,
                         "status": status, "reason_code": "chest_pain",
                         "source_kind": "symptom_report", "source_id": i, "created_at": at,
                         "rules": "[]", "outcome": "", "resolution_note": ""}
                    )  # fmt: skip
            if i % 37 == 0:
                alerts.append(
                    {"clinic_id": cid, "client_id": c.id, "severity": "emergency",
                     "status": "open", "reason_code": "chest_pain",
                     "source_kind": "symptom_report", "source_id": -i, "created_at": at,
                     "rules": "[]", "outcome": "", "resolution_note": ""}
                )  # fmt: skip
            if i % 4 == 0:
                sessions.append(
                    {"course_id": courses[c.id], "client_id": c.id, "number": 1,
                     "scheduled_at": at + timedelta(days=1 + i % 9), "route": "intramuscular",
                     "setting": "in_clinic", "status": DosingStatus.SCHEDULED,
                     "created_at": at, "updated_at": at, "cancel_reason": ""}
                )  # fmt: skip
            if i % 3 == 0:
                endpoint = f"https://push.example/{uuid.uuid4().hex}"
                devices.append(
                    {"user_id": c.id, "endpoint": endpoint, "endpoint_hash": uuid.uuid4().hex,
                     "p256dh": "k", "auth": "a", "device": "", "push_host": "push.example",
                     "status": "active", "created_at": at, "seen_at": at,
                     "last_success_at": at - timedelta(days=i % 12),
                     "last_failure_at": at if i % 9 == 0 else None, "last_outcome": ""}
                )  # fmt: skip
        for model, rows in (
            (CheckIn, checkins),
            (QuestionnaireResponse, scores),
            (Alert, alerts),
            (DosingSession, sessions),
            (PushSubscription, devices),
        ):
            bulk(s, model, rows)
        say(
            f"seeded {n} clients: {len(checkins)} check-ins, {len(scores)} scores, "
            f"{len(alerts)} alerts, {len(sessions)} sessions, {len(devices)} devices"
        )
        return Actor.from_user(users["admin@bench.example"]), Actor.from_user(staff[0])


def timed(fn, calls: int) -> float:
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def page_one(actor: Actor, **kwargs):
    def call():
        with unit_of_work() as s:
            view = dashboard.caseload(s, actor, **kwargs)
        assert view.rows, "an empty page measures nothing"

    return call


def midnight(engine, admin: Actor) -> None:
    """The first reads after the clients' midnight, when every row is a day old: without the
    worker (each read recomputes up to a page of rows itself), then the next night after the
    worker's roll-over ticks (``worker.roll_over``, the step each tick runs) have recomputed
    them."""
    today = local_today(TZ, now())

    def just_after_midnight(days_ahead: int):
        day = today + timedelta(days=days_ahead)
        start = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(TZ))
        return time_machine.travel(start + timedelta(minutes=5))

    with just_after_midnight(1):
        spent = timed(page_one(admin), 3)
    say(f"caseload() admin, page 1, after midnight, no tick (median of 3 reads): {spent:.1f} ms")
    with just_after_midnight(2):
        ticks, rolled = [], []
        while True:
            t0 = time.perf_counter()
            made = worker.roll_over(engine)
            if not made:
                break
            ticks.append((time.perf_counter() - t0) * 1000)
            rolled.append(made)
        say(
            f"worker roll-over after midnight: {sum(rolled)} rows in {len(ticks)} ticks of at most "
            f"{worker.ROLLOVER_PER_TICK} ({worker.ROLLOVER_BATCH} per transaction), "
            f"median {statistics.median(ticks):.0f} ms per tick, max {max(ticks):.0f} ms"
        )
        spent = timed(page_one(admin), 3)
    say(f"caseload() admin, page 1, after midnight, after the ticks (median of 3): {spent:.1f} ms")


def run(url: str, n: int, days: int, calls: int) -> None:
    engine = db.make_engine(url)
    db.set_engine(engine)
    try:
        t0 = time.perf_counter()
        admin, clinician = seed(engine, n, days)
        say(f"seed (bulk insert): {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        with db.session_scope(engine) as s:
            built = dashboard.refresh_all(s)
        spent = time.perf_counter() - t0
        say(f"summaries built: {built} in {spent:.1f} s ({spent / built * 1000:.1f} ms each)")
        ids = []
        with db.session_scope(engine) as s:
            ids = list(
                s.execute(select(User.id).where(User.role == Role.CLIENT).limit(20)).scalars()
            )

        def one_refresh():
            with db.session_scope(engine) as s:
                dashboard.refresh_summary(s, random.choice(ids))  # noqa: S311

        spent = timed(one_refresh, 20)
        say(f"one summary refresh (the work of the write hook), median of 20: {spent:.1f} ms")
        for label, actor, kwargs in (
            (f"admin, page 1 of {n} clients", admin, {}),
            (f"clinician, page 1 of {n // CLINICIANS} clients", clinician, {}),
            ("admin, search 'client 01'", admin, {"query": "client 01"}),
            ("admin, filter recency 'older'", admin, {"recency": "older"}),
        ):
            page_one(actor, **kwargs)()  # warm up
            spent = timed(page_one(actor, **kwargs), calls)
            say(f"caseload() {label}: median of {calls} calls {spent:.1f} ms")
        midnight(engine, admin)
    finally:
        db.set_engine(None)
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="", help="postgresql+psycopg://... (default: SQLite)")
    parser.add_argument("-n", "--clients", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    with scratch_database(args.db) as url:
        run(url, args.clients, args.days, args.calls)


if __name__ == "__main__":
    main()
