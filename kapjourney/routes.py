"""Route constants shared by the HTTP routes and the UI (no imports, so both may use it)."""

from __future__ import annotations

INDEX = "/"
SIGNIN = "/signin"
INVITE = "/invite"
CRISIS = "/crisis"
TODAY = "/today"
CLINICIAN_HOME = "/clinician"

HOME_BY_ROLE = {"client": TODAY, "clinician": CLINICIAN_HOME, "admin": CLINICIAN_HOME}
