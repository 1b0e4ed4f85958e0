"""GET /offline.html, the page the service worker shows without a network: self-contained, the
daily check-in built from the domain's scales, and crisis calls to the signed-in person's clinic
(the clinic model's defaults when signed out), with every clinic-entered value escaped."""

from __future__ import annotations

import re
import warnings
from html.parser import HTMLParser

import pytest

from kapjourney import db
from kapjourney.domain.checkin import NOTE_MAX, SCALES
from kapjourney.domain.models import Clinic
from kapjourney.http.app import create_api
from kapjourney.http.offline import tel_href
from kapjourney.settings import Settings
from tests.conftest import PASSWORD

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
    with TestClient(create_api(settings), raise_server_exceptions=False) as c:
        yield c


def _sign_in(c, email: str) -> None:
    response = c.post("/auth/signin", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text


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
