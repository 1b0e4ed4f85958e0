"""GET /offline.html, the page the service worker shows without a network: self-contained, the
daily check-in built from the domain's scales, crisis calls to the signed-in person's clinic
(the clinic model's defaults when signed out), with every clinic-entered value escaped; for a
signed-in client, a report form for each follow-up due now or within a week (only hers), whose
worrying answers come from her clinic's safety rules, and her owner tag."""

from __future__ import annotations

import json
import re
import warnings
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest
import time_machine

from kapjourney import db
from kapjourney.domain.checkin import NOTE_MAX, SCALES
from kapjourney.domain.models import Clinic, ClinicProtocol, ClinicSafetyRule, User
from kapjourney.domain.safety import (
    DIASTOLIC_RANGE,
    PULSE_RANGE,
    RULES,
    SEVERITY,
    SYMPTOM_ITEMS,
    SYSTOLIC_RANGE,
    Facts,
    evaluate,
)
from kapjourney.http import push
from kapjourney.http.app import create_api
from kapjourney.http.offline import tel_href
from kapjourney.http.offline_report import worry_steps
from kapjourney.services import symptoms
from kapjourney.services.uow import unit_of_work
from kapjourney.settings import Settings, ensure_local_secrets, get_settings
from tests.conftest import PASSWORD
from tests.journey_support import DOSED, dosed_and_done
from tests.two_factor_support import complete_two_factor

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="Using `httpx` with `starlette.testclient`", category=UserWarning
    )
    from fastapi.testclient import TestClient


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the page's visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


@pytest.fixture
def client(engine):
    settings = Settings(public_url="http://testserver")
    ensure_local_secrets(settings)  # what `python -m kapjourney.cli init` does
    with TestClient(create_api(settings), raise_server_exceptions=False) as c:
        yield c


def _sign_in(c, email: str) -> None:
    response = c.post("/auth/signin", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    complete_two_factor(c, response)  # staff: the second factor (issue 7)


def _calls(page: _Tags) -> list[str]:
    return [a["href"] for a in page.find("a") if (a.get("href") or "").startswith("tel:")]


def test_signed_out_page_is_self_contained_with_default_lines_and_the_checkin(client):
    response = client.get("/offline.html")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    page = _parse(response.text)

    assert "You are offline" in "".join(page.text)
    defaults = Clinic.model_fields
    assert _calls(page) == [
        f"tel:{defaults['crisis_line_number'].default}",
        f"tel:{defaults['emergency_number'].default}",
    ]
    # Nothing loads from elsewhere: one same-origin script, no stylesheets or fonts.
    assert [a["src"] for a in page.find("script")] == ["/js/offline.js"]
    assert page.find("link", rel="stylesheet") == []
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", response.text)

    # The check-in: the domain's scales, in order, each with its five anchors as radios.
    legends = [s.get("id") for s in page.find("fieldset")]
    assert legends == [f"scale-{s.key}" for s in SCALES]
    for scale in SCALES:
        radios = page.find("input", type="radio", name=scale.key)
        assert [r["value"] for r in radios] == ["1", "2", "3", "4", "5"]
        words = [t.replace("\u00ad", "") for t in page.text]  # soft hyphens aside
        for word in scale.anchors:
            assert word in words
        assert page.find("fieldset", id=f"scale-{scale.key}")[0]["data-required"] == (
            "true" if scale.required else "false"
        )
    [note] = page.find("textarea", id="offline-note")
    assert note["data-max"] == str(NOTE_MAX)
    assert f"0 / {NOTE_MAX}" in page.text
    [status] = page.find("p", id="offline-status")
    assert status["role"] == "status" and status["aria-live"] == "polite"
    assert status["data-saved"] == "Saved on this phone. It will send when you are back online."


def test_signed_in_client_gets_her_clinics_lines_escaped(client, engine, personas):
    with db.session_scope(engine) as s:
        clinic = s.get(Clinic, personas.client.clinic_id)
        clinic.crisis_line_name = 'Harbour <b>"Line"</b> & Co'
        clinic.crisis_line_number = "0800 11 22 33"
        clinic.crisis_phone = "+1 (555) 010-2000"
        clinic.emergency_number = "112"
        s.add(clinic)
    _sign_in(client, personas.client.email)

    response = client.get("/offline.html")
    page = _parse(response.text)
    assert _calls(page) == ["tel:0800112233", "tel:+15550102000", "tel:112"]
    assert "Harbour &lt;b&gt;&quot;Line&quot;&lt;/b&gt; &amp; Co" in response.text
    assert "<b>" not in response.text
    assert 'Call Harbour <b>"Line"</b> & Co' in "".join(page.text)
    assert page.find("form", id="offline-checkin")


def test_staff_see_the_crisis_card_but_no_checkin(client, personas):
    _sign_in(client, personas.clinician.email)
    page = _parse(client.get("/offline.html").text)
    assert _calls(page)
    assert page.find("form") == []


def test_an_unknown_session_gets_the_signed_out_page(client, personas):
    client.cookies.set("kj_session", "not-a-real-token")
    page = _parse(client.get("/offline.html").text)
    assert _calls(page) == ["tel:988", "tel:911"]
    assert page.find("form", id="offline-checkin")


@pytest.mark.parametrize(
    ("number", "href"),
    [("988", "tel:988"), ("+44 (0)20 7946 0000", "tel:+442079460000"), ("call us", "")],
)
def test_tel_links_keep_only_dialable_characters(number, href):
    assert tel_href(number) == href


# --- after-session reports and the owner tag ----------------------------------------------------

ITEM_KEYS = [key for key, _ in SYMPTOM_ITEMS]


@pytest.fixture
def dosing_id(engine, personas) -> int:
    """Ada's first session, dosed at DOSED and marked done by her clinician."""
    return dosed_and_done(personas.actor("clinician"), personas.client.id)


def _page_at(client, email: str, hours: float) -> tuple[str, _Tags]:
    with time_machine.travel(DOSED + timedelta(hours=hours), tick=False):
        _sign_in(client, email)
        html = client.get("/offline.html").text
    return html, _parse(html)


def _reports(page: _Tags) -> list[dict[str, str | None]]:
    return [a for t, a in page.tags if t == "details" and "report" in (a.get("class") or "")]


def _steps(page: _Tags, dosing: int, offset: int, key: str) -> list[list[float]]:
    [fieldset] = page.find("fieldset", id=f"rep-{dosing}-{offset}-{key}")
    return json.loads(fieldset["data-worry"] or "")


def test_a_client_gets_a_report_for_each_follow_up_due_or_due_within_a_week(
    client, engine, personas, dosing_id
):
    with db.session_scope(engine) as s:  # a fifth follow-up, 14 days out: beyond the week
        s.get(
            ClinicProtocol, personas.client.clinic_id
        ).followup_minutes = "120,1440,4320,10080,20160"
    html, page = _page_at(client, personas.client.email, 25)

    # 2 h closed when 24 h fell due; 24 h is due; 72 h and 7 d fall due within the week.
    reports = _reports(page)
    assert [(r["data-dosing"], r["data-offset"]) for r in reports] == [
        (str(dosing_id), "1440"),
        (str(dosing_id), "4320"),
        (str(dosing_id), "10080"),
    ]
    assert [datetime.fromisoformat(r["data-due"] or "") for r in reports] == [
        DOSED + timedelta(minutes=m) for m in (1440, 4320, 10080)
    ]
    assert datetime.fromisoformat(reports[0]["data-closes"] or "") == DOSED + timedelta(hours=72)
    assert all("hidden" in r for r in reports)  # the script shows each once it is due
    # Labelled as Today labels them.
    titles = [t for t in page.text if t.startswith("How are you feeling?")]
    assert titles == [
        "How are you feeling? (24 hours after session 1)",
        "How are you feeling? (72 hours after session 1)",
        "How are you feeling? (7 days after session 1)",
    ]
    with time_machine.travel(DOSED + timedelta(hours=25), tick=False), unit_of_work() as s:
        client_row = s.get(User, personas.client.id)
        today = symptoms.todos(s, client_row, DOSED + timedelta(hours=25))
    assert [t.title for t in today] == titles[:1]

    # Each form is the online report's: the same items, severities, readings and note limit.
    prefix = f"rep-{dosing_id}-1440"
    assert [f["id"] for f in page.find("fieldset") if (f.get("id") or "").startswith(prefix)] == [
        f"{prefix}-{key}" for key in ITEM_KEYS
    ]
    start = page.tags.index(("details", reports[0]))
    end = page.tags.index(("details", reports[1]))
    inside = [a for t, a in page.tags[start:end] if t == "input" and a.get("type") == "radio"]
    for key in ITEM_KEYS:
        radios = [a for a in inside if a.get("name") == key]
        assert [r["value"] for r in radios] == [str(c.value) for c in SEVERITY]
    assert len(inside) == len(ITEM_KEYS) * len(SEVERITY)
    for text in (text for _, text in SYMPTOM_ITEMS):
        assert any(t.endswith(f". {text}") for t in page.text), text
    assert [c.label for c in SEVERITY] == [
        t for t in page.text if t in {c.label for c in SEVERITY}
    ][:5]
    for name, (low, high) in (
        ("systolic", SYSTOLIC_RANGE),
        ("diastolic", DIASTOLIC_RANGE),
        ("pulse", PULSE_RANGE),
    ):
        [field] = page.find("input", id=f"{prefix}-{name}")
        assert (field["data-min"], field["data-max"], field["inputmode"]) == (
            str(low),
            str(high),
            "numeric",
        )
    [note] = page.find("textarea", id=f"{prefix}-note")
    assert note["data-max"] == str(symptoms.NOTE_MAX)
    # The check-in stays first; the reports come after it, each behind its own summary.
    assert html.index('id="offline-checkin"') < html.index('id="offline-reports"')
    assert html.count("<summary>") == 3
    # Posted, never sent as a query: no answer could end up in an address.
    assert {f.get("method") for f in page.find("form")} == {"post"}


def test_reports_sent_or_closed_are_left_out_and_drafts_stay(client, engine, personas, dosing_id):
    with time_machine.travel(DOSED + timedelta(hours=25), tick=False), unit_of_work() as s:
        symptoms.submit_report(
            session=s,
            actor=personas.actor("client"),
            dosing_session_id=dosing_id,
            offset_minutes=1440,
            submission_id="sent-online-0001",
            answers={key: 0 for key in ITEM_KEYS},
        )
    _, page = _page_at(client, personas.client.email, 26)
    assert [r["data-offset"] for r in _reports(page)] == ["4320", "10080"]

    # Three days on: 72 h is due and has a draft (answers on the server, never in the page).
    with time_machine.travel(DOSED + timedelta(hours=73), tick=False), unit_of_work() as s:
        symptoms.save_report_answer(
            session=s,
            actor=personas.actor("client"),
            dosing_session_id=dosing_id,
            offset_minutes=4320,
            field="nausea",
            value=2,
        )
    _, page = _page_at(client, personas.client.email, 74)
    assert [r["data-offset"] for r in _reports(page)] == ["4320", "10080"]
    assert not [a for t, a in page.tags if t == "input" and "checked" in a]

    # Fifteen days on, nothing is open.
    _, page = _page_at(client, personas.client.email, 15 * 24)
    assert _reports(page) == []
    assert page.find("section", id="offline-reports") == []


def test_only_her_own_follow_ups_and_only_for_her(client, engine, personas, dosing_id):
    for email in (personas.other_client.email, personas.clinician.email):
        client.cookies.clear()
        html, page = _page_at(client, email, 25)
        assert _reports(page) == [] and "rep-" not in html
    client.cookies.clear()
    with time_machine.travel(DOSED + timedelta(hours=25), tick=False):
        page = _parse(client.get("/offline.html").text)  # signed out
    assert _reports(page) == []


def test_worry_thresholds_come_from_the_clinics_safety_rules(client, engine, personas, dosing_id):
    _, page = _page_at(client, personas.client.email, 3)
    # Two hours after: self-harm thoughts and chest pain at any severity; still feeling
    # detached only from 24 hours on; any other symptom once severe.
    assert _steps(page, dosing_id, 120, "self_harm") == [[2, 1]]
    assert _steps(page, dosing_id, 120, "chest_pain") == [[2, 1]]
    assert _steps(page, dosing_id, 120, "detached") == [[2, 3], [24, 1]]
    assert _steps(page, dosing_id, 120, "nausea") == [[2, 3]]
    assert _steps(page, dosing_id, 1440, "detached") == [[24, 1]]
    [report] = [r for r in _reports(page) if r["data-offset"] == "120"]
    assert json.loads(report["data-vitals"] or "") == [
        {
            "systolic": 180,
            "diastolic": 120,
            "with": ["severe_headache", "chest_pain", "blurred_vision"],
        },
        {"systolic": 180, "diastolic": 110, "with": []},
        {"pulse": 120},
    ]

    # The clinic counts a moderate symptom as urgent and lowers the blood pressure limits.
    with db.session_scope(engine) as s:
        clinic_id = personas.client.clinic_id
        s.add(
            ClinicSafetyRule(clinic_id=clinic_id, code="severe_grade", tier="urgent", threshold=2)
        )
        s.add(
            ClinicSafetyRule(
                clinic_id=clinic_id, code="bp_very_high", tier="urgent", systolic=170, diastolic=105
            )
        )
    client.cookies.clear()
    _, page = _page_at(client, personas.client.email, 3)
    assert _steps(page, dosing_id, 120, "nausea") == [[2, 2]]
    [report] = [r for r in _reports(page) if r["data-offset"] == "120"]
    assert {"systolic": 170, "diastolic": 105, "with": []} in json.loads(
        report["data-vitals"] or ""
    )


def test_worry_steps_agree_with_the_rules_for_every_item_severity_and_hour():
    def least_at(steps: list[list[float]], hours: float) -> float:
        return [least for start, least in steps if start <= hours][-1]

    for due in (2.0, 24.0, 72.0):
        for key in ITEM_KEYS:
            steps = worry_steps(RULES, key, due)
            assert steps[0][0] == due
            for hours in (due, due + 1, 23.9, 24.0, 30.0, 200.0):
                if hours < due:
                    continue
                least = least_at(steps, hours)
                for severity in range(1, 5):
                    facts = Facts("symptoms", {key: severity}, hours_after_dosing=hours)
                    alerted = evaluate(facts, RULES).tier in ("urgent", "emergency")
                    assert alerted == (0 < least <= severity), (key, severity, hours)
                assert least > 0  # at its most severe, every item alerts


def test_the_page_carries_the_clients_owner_tag_and_her_clinics_lines_escaped(
    client, engine, personas, dosing_id
):
    with db.session_scope(engine) as s:
        clinic = s.get(Clinic, personas.client.clinic_id)
        clinic.crisis_line_name = 'Harbour <b>"Line"</b> & Co'
    html, page = _page_at(client, personas.client.email, 25)
    [main] = page.find("main")
    assert main["data-owner"] == push.owner_tag(personas.client.id, get_settings())
    assert re.fullmatch(r"[0-9a-f]{24}", main["data-owner"] or "")
    # The crisis card shown with a worrying answer names her clinic's lines, escaped.
    assert "<b>" not in html
    assert html.count("call Harbour &lt;b&gt;&quot;Line&quot;&lt;/b&gt; &amp; Co on 988") == 2
    assert "Your answers will reach your care team when you are back online." in html

    client.cookies.clear()
    _, other = _page_at(client, personas.other_client.email, 25)
    [main_other] = other.find("main")
    assert main_other["data-owner"] == push.owner_tag(personas.other_client.id, get_settings())
    assert main_other["data-owner"] != main["data-owner"]
    for email in (personas.clinician.email, None):
        client.cookies.clear()
        if email:
            _sign_in(client, email)
        [plain] = _parse(client.get("/offline.html").text).find("main")
        assert "data-owner" not in plain
