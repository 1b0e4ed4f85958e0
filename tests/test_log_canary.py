"""No health data, session tokens, passwords or push endpoints in the logs (S9).

A full journey runs with every logger at DEBUG and stdout/stderr captured: the client signs in
over HTTP (once with a wrong password), signs consent, checks in through the check-in page's
handlers with a note holding a unique canary, subscribes a phone to reminders, sends a
worrying symptom report (an urgent alert is raised); her clinician signs in, opens the inbox,
acknowledges and resolves the alert with a note holding the canary, and downloads every
export. Then the captured text must hold none of: the canaries, either session cookie's value,
either password, the push endpoint, or words that would tell a reader about a score or symptom.

SQLAlchemy logs statement parameters when its ``sqlalchemy.engine`` logger is at INFO: that is
``echo``, which the app never turns on (asserted here); an operator who sets that logger by hand
opts into it, so it stays at WARNING in this test as in the app's own configuration.
"""

from __future__ import annotations

import logging
import os
import uuid
import warnings
from datetime import timedelta

import pytest
import time_machine

import kapjourney.kapjourney  # noqa: F401  (builds the app: registers every state and page)
from kapjourney import db
from kapjourney.domain.safety import SYMPTOM_ITEMS
from kapjourney.http.app import create_api
from kapjourney.routes import export_urls
from kapjourney.services import symptoms
from kapjourney.services.uow import unit_of_work
from kapjourney.settings import Settings
from tests.conftest import PASSWORD, run_async
from tests.fuzz_support import call_like_reflex, fresh_state, project_handlers
from tests.journey_support import BASE, schedule, sign_consent
from tests.two_factor_support import complete_two_factor

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="Using `httpx` with `starlette.testclient`", category=UserWarning
    )
    from fastapi.testclient import TestClient

os.environ.setdefault("PYTEST_CURRENT_TEST", "x")  # lets states be built directly

DOSED = BASE + timedelta(days=1)
HANDLERS = {t.id: t for t in project_handlers()}
# Words a log line would need to tell a reader something clinical about someone.
CLINICAL_WORDS = ("score", "phq", "gad-7", "suicid", "self-harm", "dissociat", "severe", "mood=")
LOUD = ("kapjourney", "reflex", "reflex_base", "uvicorn", "fastapi", "starlette", "httpx")


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # exc_info (tracebacks) included


@pytest.fixture
def captured():
    """Every logger at DEBUG, as an operator chasing a problem would set them."""
    handler = _Capture()
    root = logging.getLogger()
    saved = (root.level, {name: logging.getLogger(name).level for name in LOUD})
    sql = logging.getLogger("sqlalchemy")
    sql_level = sql.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in LOUD:
        logging.getLogger(name).setLevel(logging.DEBUG)
    sql.setLevel(logging.WARNING)
    yield handler
    root.removeHandler(handler)
    root.setLevel(saved[0])
    for name, level in saved[1].items():
        logging.getLogger(name).setLevel(level)
    sql.setLevel(sql_level)


class _Tab:
    """One page's state in one browser tab, its events processed as Reflex processes them."""

    def __init__(self, cookie: str, state_name: str) -> None:
        self.name = state_name
        self.state = fresh_state(HANDLERS[f"{state_name}.load"], cookie=cookie)

    def __call__(self, handler: str, **payload) -> None:
        run_async(call_like_reflex(self.state, HANDLERS[f"{self.name}.{handler}"], payload))


def _sign_in(web, email: str, password: str = PASSWORD) -> str:
    response = web.post("/auth/signin", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    complete_two_factor(web, response)  # staff: the second factor (issue 7)
    return f"kj_session={web.cookies['kj_session']}"


def _worrying_report(personas) -> None:
    """Ada's session is done; 24 h later she reports dissociation and a severe headache."""
    cleo, ada = personas.actor("clinician"), personas.actor("client")
    with time_machine.travel(BASE, tick=False):
        dosing = schedule(cleo, personas.client.id, days_ahead=1)
    with time_machine.travel(DOSED + timedelta(minutes=1), tick=False), unit_of_work() as s:
        from kapjourney.services import plan

        plan.complete_session(session=s, actor=cleo, dosing_session_id=dosing)
    answers = {key: 0 for key, _ in SYMPTOM_ITEMS} | {"detached": 3, "headache": 3}
    with time_machine.travel(DOSED + timedelta(hours=25), tick=False), unit_of_work() as s:
        result = symptoms.submit_report(
            session=s,
            actor=ada,
            dosing_session_id=dosing,
            offset_minutes=1440,
            submission_id=f"canary-{uuid.uuid4()}",
            answers=answers,
        )
    assert result.tier == "urgent"


def test_a_full_journey_leaves_no_health_data_or_secrets_in_the_logs(
    engine, personas, tmp_path, captured, capfd
):
    canary = f"PHI-CANARY-{uuid.uuid4()}"
    wrong_password = f"PW-CANARY-{uuid.uuid4().hex}"
    endpoint = f"https://fcm.googleapis.com/fcm/send/ENDPOINT-CANARY-{uuid.uuid4().hex}"
    settings = Settings(data_dir=tmp_path / "data", public_url="http://testserver")
    assert not engine.echo and not db.make_engine("sqlite://").echo  # no SQL parameters logged

    with TestClient(create_api(settings), raise_server_exceptions=False) as web:
        refused = web.post(
            "/auth/signin", json={"email": personas.client.email, "password": wrong_password}
        )
        assert refused.status_code in (400, 401)
        ada = _sign_in(web, personas.client.email)
        sign_consent(personas.actor("client"), name=f"Ada {canary}")
        checkin = _Tab(ada, "CheckInState")
        checkin("load")
        for key in ("mood", "anxiety"):
            checkin("tap", key=key, value="2")
        checkin("type_note", value=f"Rough night {canary}")
        checkin("tap", key="sleep", value="1")
        assert checkin.state.status == "submitted", checkin.state.problems
        subscribed = web.post(
            "/api/push/subscriptions",
            json={"subscription": {"endpoint": endpoint, "keys": {"p256dh": "k", "auth": "a"}}},
            headers={"origin": "http://testserver"},
        )
        assert subscribed.status_code in (201, 400), subscribed.text
        _worrying_report(personas)
        web.cookies.clear()

        cleo = _sign_in(web, personas.clinician.email)
        inbox = _Tab(cleo, "InboxState")
        inbox("load")
        [alert_id] = [r.alert_id for r in inbox.state.rows]
        inbox("acknowledge", alert_id=alert_id)
        inbox("open_dialog", kind="resolve", alert_id=alert_id)
        inbox("resolve", form_data={"note": f"Called her {canary}", "outcome": "contacted_client"})
        assert inbox.state.rows == [] and inbox.state.errors.get("note", "") == ""
        for url in export_urls(personas.client.id).values():
            assert web.get(url).status_code == 200, url

    out, err = capfd.readouterr()
    text = "\n".join([*captured.lines, out, err])
    assert any("/auth/signin" in line for line in captured.lines), "is the capture wired?"
    secrets = {
        "the PHI canary": canary,
        "Ada's session cookie": ada.split("=", 1)[1],
        "Cleo's session cookie": cleo.split("=", 1)[1],
        "the password": PASSWORD,
        "the wrong password": wrong_password,
        "the push endpoint": endpoint.rsplit("/", 1)[1],
    }
    leaked = [name for name, secret in secrets.items() if secret in text]
    assert leaked == [], f"found in the logs: {leaked}"
    lowered = text.lower()
    words = [w for w in CLINICAL_WORDS if w in lowered]
    assert words == [], f"clinical words in the logs: {words}\n" + _lines_with(text, words)


def _lines_with(text: str, words: list[str]) -> str:
    hits = [line for line in text.splitlines() if any(w in line.lower() for w in words)]
    return "\n".join(line[:200] for line in hits[:10])
