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
CHECKIN = "/checkin"
FORM = "/questionnaire/[instrument]"  # a due questionnaire (PHQ-9, GAD-7, PCL-5, C-SSRS)
REPORT = "/report/[dosing_session_id]/[offset_minutes]"  # a post-session symptom report
SUPPORT = "/support"  # the calm screen after a worrying report: crisis resources, safety plan
SAFETY_PLAN = "/safety-plan"
JOURNAL = "/journal"  # integration exercises
EXERCISE = "/journal/[assignment_id]"
PROGRESS = "/progress"
SETTINGS = "/settings"  # reminders and this person's devices (every role)
CLINICIAN_HOME = "/clinician"
CLIENT_DETAIL = "/clinician/client/[client_id]"
PROTOCOL = "/clinician/protocol"
SAFETY_RULES = "/clinician/safety-rules"
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


def form_url(instrument: str) -> str:
    return f"/questionnaire/{instrument}"


def report_url(dosing_session_id: int, offset_minutes: int) -> str:
    return f"/report/{dosing_session_id}/{offset_minutes}"


def exercise_url(assignment_id: int) -> str:
    return f"/journal/{assignment_id}"
