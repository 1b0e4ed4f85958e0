"""Server-side sessions: token entropy and storage, resolution, expiry, revocation, cookies."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import text
from sqlmodel import select

from kapjourney import db
from kapjourney.auth import sessions
from kapjourney.domain.enums import Role
from kapjourney.domain.models import AuthSession, Clinic, User
from kapjourney.settings import Settings
from tests.support import T0

URLSAFE = re.compile(r"[A-Za-z0-9_-]+")


def _issue(engine, user: User, settings: Settings) -> str:
    with db.session_scope(engine) as s:
        return sessions.create_session(s, user=user, settings=settings)


def _resolve(engine, token, settings: Settings):
    with db.session_scope(engine) as s:
        return sessions.resolve_session(s, token=token, settings=settings)


def _row(engine, token: str) -> AuthSession:
    with db.session_scope(engine) as s:
        return s.exec(
            select(AuthSession).where(AuthSession.token_hash == sessions.hash_token(token))
        ).one()


# --- tokens and what is stored -----------------------------------------------------------------


class _RecordingSession:
    """Stands in for a database session: create_session only adds and flushes."""

    def __init__(self) -> None:
        self.added: list[AuthSession] = []

    def add(self, row: AuthSession) -> None:
        self.added.append(row)

    def flush(self) -> None:
        pass


def test_it_issues_ten_thousand_unique_long_urlsafe_tokens_keeping_only_their_sha256(
    settings,
):
    user = User(id=7, clinic_id=1, role=Role.CLIENT, email="t@example.com", display_name="T")
    recorder = _RecordingSession()
    tokens = [
        sessions.create_session(recorder, user=user, settings=settings) for _ in range(10_000)
    ]
    assert len(set(tokens)) == 10_000
    for token in tokens:
        assert len(token) >= 43
        assert URLSAFE.fullmatch(token), token
    # 256 random bits behind each token.
    assert {len(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))) for t in tokens} == {32}
    assert [row.token_hash for row in recorder.added] == [
        hashlib.sha256(t.encode()).hexdigest() for t in tokens
    ]
    raw = set(tokens)
    for row in recorder.added:
        for value in row.model_dump().values():
            assert str(value) not in raw


def test_it_stores_only_the_hash_of_many_tokens_in_the_database(engine, personas, settings):
    with db.session_scope(engine) as s:
        tokens = [
            sessions.create_session(s, user=personas.client, settings=settings) for _ in range(200)
        ]
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM authsession")).all()
    assert len(rows) == 200
    cells = {str(cell) for row in rows for cell in row}
    assert {sessions.hash_token(t) for t in tokens} <= cells
    assert not any(t in cell for cell in cells for t in tokens[:20])
    assert not set(tokens) & cells


def test_it_keeps_the_raw_token_out_of_every_column(engine, personas, settings):
    token = _issue(engine, personas.clinician, settings)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM authsession")).all()
    assert len(rows) == 1
    cells = [str(cell) for cell in rows[0]]
    assert sessions.hash_token(token) in cells
    assert not any(token in cell for cell in cells)


def test_it_never_writes_the_raw_token_to_the_sqlite_file(sqlite_template, tmp_path, settings):
    path = tmp_path / "file-check.db"
    shutil.copy(sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with db.session_scope(engine) as s:
            clinic = Clinic(name="C", slug="c")
            s.add(clinic)
            s.flush()
            user = User(
                clinic_id=clinic.id, role=Role.CLIENT, email="f@example.com", display_name="F"
            )
            s.add(user)
            s.flush()
            token = sessions.create_session(s, user=user, settings=settings)
    finally:
        engine.dispose()
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("file-check.db*"))
    assert sessions.hash_token(token).encode() in blob  # the row did reach the file
    assert token.encode() not in blob


# --- resolving -----------------------------------------------------------------------------------


def test_it_resolves_a_fresh_token_to_its_user(engine, personas, settings):
    token = _issue(engine, personas.clinician, settings)
    actor = _resolve(engine, token, settings)
    assert actor is not None
    assert (actor.user_id, actor.role, actor.clinic_id) == (
        personas.clinician.id,
        Role.CLINICIAN,
        personas.clinician.clinic_id,
    )


@pytest.mark.parametrize(
    "token",
    [None, "", "unknown-token-" + "a" * 30, "x" * (sessions.MAX_TOKEN_LENGTH + 1), "x" * 1_000_000],
    ids=["none", "empty", "unknown", "oversized", "one_megabyte"],
)
def test_it_resolves_unknown_or_malformed_tokens_to_nobody(engine, personas, settings, token):
    _issue(engine, personas.client, settings)
    assert _resolve(engine, token, settings) is None


def test_it_does_not_accept_the_stored_hash_as_a_token(engine, personas, settings):
    token = _issue(engine, personas.client, settings)
    assert _resolve(engine, sessions.hash_token(token), settings) is None


def test_it_refuses_a_session_of_a_deactivated_user(engine, personas, settings):
    token = _issue(engine, personas.clinician, settings)
    with db.session_scope(engine) as s:
        user = s.get(User, personas.clinician.id)
        user.is_active = False
        s.add(user)
    assert _resolve(engine, token, settings) is None


# --- expiry --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["clinician", "admin"])
def test_it_slides_the_staff_idle_window_and_expires_after_fifteen_idle_minutes(
    engine, personas, settings, who
):
    user = getattr(personas, who)
    with time_machine.travel(T0, tick=False) as traveller:
        token = _issue(engine, user, settings)
        traveller.shift(timedelta(minutes=14))
        assert _resolve(engine, token, settings) is not None
        # 28 minutes after sign-in: alive only because the touch at 14 minutes slid the window.
        traveller.shift(timedelta(minutes=14))
        assert _resolve(engine, token, settings) is not None
        traveller.shift(timedelta(minutes=16))
        assert _resolve(engine, token, settings) is None


def test_it_expires_a_staff_session_at_exactly_fifteen_idle_minutes(engine, personas, settings):
    with time_machine.travel(T0, tick=False) as traveller:
        token = _issue(engine, personas.clinician, settings)
        traveller.shift(timedelta(minutes=15))
        assert _resolve(engine, token, settings) is None


def test_it_ends_a_staff_session_after_twelve_hours_however_active(engine, personas, settings):
    with time_machine.travel(T0, tick=False) as traveller:
        token = _issue(engine, personas.clinician, settings)
        for step in range(1, 72):  # every 10 minutes up to 11 h 50 min
            traveller.shift(timedelta(minutes=10))
            assert _resolve(engine, token, settings) is not None, f"dropped at step {step}"
        traveller.shift(timedelta(minutes=10))  # 12 h after sign-in
        assert _resolve(engine, token, settings) is None
    row = _row(engine, token)
    assert row.revoked_at is None  # it expired; nobody revoked it


def test_it_slides_a_client_session_for_thirty_days(engine, personas, settings):
    with time_machine.travel(T0, tick=False) as traveller:
        token = _issue(engine, personas.client, settings)
        traveller.shift(timedelta(days=29))
        assert _resolve(engine, token, settings) is not None
        # 58 days after sign-in: alive only because day 29 extended the window.
        traveller.shift(timedelta(days=29))
        assert _resolve(engine, token, settings) is not None
        traveller.shift(timedelta(days=31))
        assert _resolve(engine, token, settings) is None


def test_it_gives_client_sessions_no_absolute_limit(engine, personas, settings):
    with time_machine.travel(T0, tick=False) as traveller:
        token = _issue(engine, personas.client, settings)
        for _ in range(6):  # 120 days, active every 20 days
            traveller.shift(timedelta(days=20))
            assert _resolve(engine, token, settings) is not None
    assert _row(engine, token).absolute_expires_at is None


def test_it_expires_a_client_session_after_thirty_one_idle_days(engine, personas, settings):
    with time_machine.travel(T0, tick=False) as traveller:
        token = _issue(engine, personas.client, settings)
        traveller.shift(timedelta(days=31))
        assert _resolve(engine, token, settings) is None


def test_it_writes_the_idle_extension_at_most_once_a_minute(engine, personas, settings):
    with time_machine.travel(T0, tick=False) as traveller:
        token = _issue(engine, personas.clinician, settings)
        before = _row(engine, token)
        traveller.shift(timedelta(seconds=30))
        assert _resolve(engine, token, settings) is not None
        assert _row(engine, token).idle_expires_at == before.idle_expires_at
        traveller.shift(timedelta(seconds=31))
        assert _resolve(engine, token, settings) is not None
        after = _row(engine, token)
    assert after.idle_expires_at > before.idle_expires_at
    assert after.last_seen_at > before.last_seen_at


# --- revocation ----------------------------------------------------------------------------------


def test_it_revokes_one_session(engine, personas, settings):
    token = _issue(engine, personas.client, settings)
    other = _issue(engine, personas.client, settings)
    with db.session_scope(engine) as s:
        assert sessions.revoke_session(s, token=token) == personas.client.id
    assert _resolve(engine, token, settings) is None
    assert _resolve(engine, other, settings) is not None
    with db.session_scope(engine) as s:
        assert sessions.revoke_session(s, token=token) is None  # already revoked


# Regression guard: revoke_session used to report an expired (never revoked) session as live,
# so sign_out audited a 'signout' for a session that had already ended.
def test_it_does_not_report_an_expired_session_as_live_when_revoking(engine, personas, settings):
    with time_machine.travel(T0, tick=False) as traveller:
        token = _issue(engine, personas.clinician, settings)
        traveller.shift(timedelta(minutes=20))
        with db.session_scope(engine) as s:
            assert sessions.revoke_session(s, token=token) is None


@pytest.mark.parametrize("token", [None, "", "nope", "x" * 10_000])
def test_it_ignores_revoking_an_unknown_token(engine, personas, settings, token):
    live = _issue(engine, personas.client, settings)
    with db.session_scope(engine) as s:
        assert sessions.revoke_session(s, token=token) is None
    assert _resolve(engine, live, settings) is not None


def test_it_revokes_every_session_of_one_user_only(engine, personas, settings):
    mine = [_issue(engine, personas.clinician, settings) for _ in range(3)]
    theirs = _issue(engine, personas.client, settings)
    with db.session_scope(engine) as s:
        assert sessions.revoke_all_sessions(s, user_id=personas.clinician.id) == 3
    assert all(_resolve(engine, t, settings) is None for t in mine)
    assert _resolve(engine, theirs, settings) is not None
    with db.session_scope(engine) as s:
        assert sessions.revoke_all_sessions(s, user_id=personas.clinician.id) == 0


def test_revoking_every_session_counts_only_the_live_ones(engine, personas, settings):
    """An expired sign-in is stamped too, but it is not counted as one that was ended."""
    with time_machine.travel(T0, tick=False) as traveller:
        old = _issue(engine, personas.clinician, settings)
        traveller.shift(timedelta(minutes=20))  # past the 15 idle minutes
        fresh = _issue(engine, personas.clinician, settings)
        with db.session_scope(engine) as s:
            assert sessions.revoke_all_sessions(s, user_id=personas.clinician.id) == 1
        assert _row(engine, old).revoked_at is not None
        assert _row(engine, fresh).revoked_at is not None


# --- the cookie header ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("kj_session=abc123", "abc123"),
        ("theme=light; kj_session=abc123; lang=en", "abc123"),
        ("kj_session=abc-_123", "abc-_123"),
        ("", None),
        ("garbage", None),
        (";;;", None),
        ("=", None),
        ("\x00\x01\x02", None),
        ("kj_session", None),
        ("kj_session_old=abc123", None),
        ("other=kj_session", None),
        ("KJ_SESSION=abc123", None),
    ],
    ids=[
        "alone",
        "among_others",
        "urlsafe_chars",
        "empty",
        "garbage",
        "semicolons",
        "bare_equals",
        "control_chars",
        "name_without_value",
        "longer_name",
        "name_as_value",
        "wrong_case",
    ],
)
def test_it_reads_only_its_own_cookie_from_the_header(header, expected, settings):
    assert sessions.token_from_cookie_header(header, settings=settings) == expected


def test_it_refuses_a_huge_cookie_header(settings):
    header = "kj_session=abc123; filler=" + "a" * 9000
    assert sessions.token_from_cookie_header(header, settings=settings) is None


def test_it_reads_the_host_prefixed_cookie_when_served_over_https(tmp_path):
    secure = Settings(data_dir=tmp_path, public_url="https://kap.example")
    assert sessions.token_from_cookie_header("__Host-kj_session=tok", settings=secure) == "tok"
    assert sessions.token_from_cookie_header("kj_session=tok", settings=secure) is None


# Regression guard: with http.cookies.SimpleCookie, one malformed unrelated cookie before
# kj_session made the whole header unreadable, signing people out on every request. Fixed by
# parsing the header by name in token_from_cookie_header.
@pytest.mark.parametrize(
    "header",
    [
        'prefs={"theme":"dark"}; kj_session=abc123',
        "greeting=hello world; kj_session=abc123",
        'half="open; kj_session=abc123',
    ],
    ids=["json_value", "space_in_value", "unbalanced_quote"],
)
def test_it_finds_its_cookie_after_a_malformed_unrelated_cookie(header, settings):
    assert sessions.token_from_cookie_header(header, settings=settings) == "abc123"
