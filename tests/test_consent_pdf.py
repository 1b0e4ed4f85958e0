"""The signed consent as a PDF: what it records, and the download route's access rules."""

from __future__ import annotations

import io
import warnings

import pytest
import time_machine
from pypdf import PdfReader

from kapjourney.domain.consent_default import DEFAULT_CONSENT_TEXT
from kapjourney.domain.consent_text import digest, parse
from kapjourney.http.app import create_api
from kapjourney.services.consent_pdf import consent_pdf
from kapjourney.services.uow import unit_of_work
from kapjourney.settings import Settings
from tests.conftest import PASSWORD
from tests.journey_support import BASE, SIGNED_NAME, sign_consent
from tests.support import audit_events
from tests.two_factor_support import complete_two_factor

with warnings.catch_warnings():  # as in test_http_auth: starlette asks for httpx2 at import
    warnings.filterwarnings(
        "ignore", message="Using `httpx` with `starlette.testclient`", category=UserWarning
    )
    from fastapi.testclient import TestClient

HOSTILE = "<script>alert(1)</script> & <b>Ada</b>"
EMAILS = {
    "client": "ada@test.example",
    "clinician": "cleo@test.example",
    "other_clinician": "uma@test.example",
    "other_client": "otto@test.example",
    "admin": "ari@test.example",
    "foreign_admin": "zed@test.example",
}


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _flat(value: str) -> str:
    return "".join(value.split())


def _download(personas, signature_id: object, who: str = "client") -> tuple[str, bytes]:
    with unit_of_work() as s:
        return consent_pdf(session=s, actor=personas.actor(who), signature_id=signature_id)


@pytest.fixture
def signed(engine, personas) -> int:
    with time_machine.travel(BASE, tick=False):
        return sign_consent(personas.actor("client")).signature_id


def test_the_pdf_records_version_digest_name_and_time(engine, personas, signed):
    filename, data = _download(personas, signed)
    assert filename == f"consent-v1-{signed}.pdf"
    assert data.startswith(b"%PDF-")
    body = _pdf_text(data)
    assert "version 1" in body
    assert digest(DEFAULT_CONSENT_TEXT) in _flat(body)
    assert SIGNED_NAME in body
    assert "2030-01-08 15:00:00 UTC" in body
    assert "Test Clinic" in body and "pytest-browser/1.0" in body


def test_the_pdf_carries_the_document_as_signed(engine, personas, signed):
    body = _flat(_pdf_text(_download(personas, signed)[1]))
    for section in parse(DEFAULT_CONSENT_TEXT).sections:
        assert _flat(section.title) in body


def test_a_hostile_name_is_printed_literally(engine, personas):
    flow = sign_consent(personas.actor("client"), name=HOSTILE)
    body = _pdf_text(_download(personas, flow.signature_id)[1])
    assert HOSTILE in body


@pytest.mark.parametrize("who", ["client", "clinician", "admin"])
def test_each_download_is_audited(engine, personas, signed, who):
    _download(personas, signed, who)
    [event] = audit_events(engine, "consent_pdf_downloaded")
    assert (event.actor_id, event.subject_client_id, event.target) == (
        getattr(personas, who).id,
        personas.client.id,
        f"signature:{signed}",
    )


# --- GET /api/consent/{id}.pdf -------------------------------------------------------------------


@pytest.fixture
def http_settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", public_url="http://testserver")


@pytest.fixture
def web(engine, http_settings):
    with TestClient(create_api(http_settings), raise_server_exceptions=False) as c:
        yield c


def _sign_in(web, who: str) -> None:
    response = web.post("/auth/signin", json={"email": EMAILS[who], "password": PASSWORD})
    assert response.status_code == 200, response.text
    complete_two_factor(web, response)  # staff: the second factor (issue 7)


@pytest.mark.parametrize("who", ["client", "clinician", "admin"])
def test_the_client_and_her_care_team_download_the_pdf(engine, personas, signed, web, who):
    _sign_in(web, who)
    response = web.get(f"/api/consent/{signed}.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="consent-v1-{signed}.pdf"'
    )
    assert SIGNED_NAME in _pdf_text(response.content)


@pytest.mark.parametrize("who", ["other_clinician", "other_client", "foreign_admin"])
def test_anyone_else_gets_a_404_and_the_attempt_is_audited(engine, personas, signed, web, who):
    _sign_in(web, who)
    response = web.get(f"/api/consent/{signed}.pdf")
    assert (response.status_code, response.json()) == (404, {"error": "not found"})
    assert response.headers["cache-control"] == "no-store"
    [event] = audit_events(engine, "access_denied")
    assert (event.actor_id, event.subject_client_id, event.target) == (
        getattr(personas, who).id,
        personas.client.id,
        "consent_pdf",
    )
    assert audit_events(engine, "consent_pdf_downloaded") == []


@pytest.mark.parametrize(
    "path_id", ["987654", "0", "-1", "abc", "1.0", "1e3", "%20", "99999999999999999999"]
)
def test_ids_that_name_no_signature_are_404(engine, personas, signed, web, path_id):
    _sign_in(web, "admin")
    response = web.get(f"/api/consent/{path_id}.pdf")
    assert response.status_code == 404
    assert [e.actor_id for e in audit_events(engine, "access_denied")] == [personas.admin.id]


def test_a_superscript_digit_id_is_a_404_not_a_500(engine, personas, signed, web):
    _sign_in(web, "admin")
    assert web.get("/api/consent/%C2%B2.pdf").status_code == 404


@pytest.mark.parametrize("cookie", [None, "kj_session=not-a-real-token"])
def test_without_a_live_session_the_route_asks_to_sign_in(engine, personas, signed, web, cookie):
    headers = {"cookie": cookie} if cookie else {}
    response = web.get(f"/api/consent/{signed}.pdf", headers=headers)
    assert (response.status_code, response.json()) == (401, {"error": "sign in first"})
    assert audit_events(engine, "consent_pdf_downloaded") == []
