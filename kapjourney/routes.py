"""Route constants shared by the HTTP routes and the UI (no imports, so both may use it)."""

from __future__ import annotations

INDEX = "/"
SIGNIN = "/signin"
INVITE = "/invite"
CRISIS = "/crisis"
TODAY = "/today"
CONSENT = "/consent"
SCREENING = "/screening"
QUESTIONNAIRE = "/screening/[instrument]"
PLAN = "/plan"
PREPARE = "/prepare/[dosing_session_id]"
CLINICIAN_HOME = "/clinician"
CLIENT_DETAIL = "/clinician/client/[client_id]"
PROTOCOL = "/clinician/protocol"
CONSENT_PDF = "/api/consent/{signature_id}.pdf"

HOME_BY_ROLE = {"client": TODAY, "clinician": CLINICIAN_HOME, "admin": CLINICIAN_HOME}


def questionnaire_url(instrument: str) -> str:
    return f"/screening/{instrument}"


def prepare_url(dosing_session_id: int) -> str:
    return f"/prepare/{dosing_session_id}"


def client_url(client_id: int) -> str:
    return f"/clinician/client/{client_id}"


def consent_pdf_url(signature_id: int) -> str:
    return CONSENT_PDF.format(signature_id=signature_id)
