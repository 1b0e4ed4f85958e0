"""Route constants shared by the HTTP routes and the UI (no imports, so both may use it)."""

from __future__ import annotations

INDEX = "/"
SIGNIN = "/signin"
SIGNIN_VERIFY = "/signin/verify"  # staff: the code from the authenticator app (issue 7)
SIGNIN_ENROL = "/signin/enrol"  # staff: set up an authenticator app at first sign-in
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
ALERTS = "/clinician/alerts"  # the care team's alert inbox
TEAM = "/clinician/team"  # admins: staff, client accounts, sign-ins (the account lifecycle)
CONSENT_PDF = "/api/consent/{signature_id}.pdf"

HOME_BY_ROLE = {"client": TODAY, "clinician": CLINICIAN_HOME, "admin": CLINICIAN_HOME}
# Where a password sign-in goes next, by the session's stage (auth/sessions.py).
NEXT_BY_STAGE = {"verify": SIGNIN_VERIFY, "enrol": SIGNIN_ENROL}


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


# --- Exports (issue 6, item 4): served by kapjourney/http/exports.py ---------------------------
EXPORT_CLIENT_CSV = "/api/export/client/{client_id}.csv"
EXPORT_CLIENT_FHIR = "/api/export/client/{client_id}/fhir.json"
EXPORT_CLIENT_PDF = "/api/export/client/{client_id}/summary.pdf"
EXPORT_CLINIC_CSV = "/api/export/clinic.csv"


def export_urls(client_id: int) -> dict[str, str]:
    """The client's exports by format: csv, fhir, pdf."""
    return {
        "csv": EXPORT_CLIENT_CSV.format(client_id=client_id),
        "fhir": EXPORT_CLIENT_FHIR.format(client_id=client_id),
        "pdf": EXPORT_CLIENT_PDF.format(client_id=client_id),
    }
