"""Closed vocabularies of the domain."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CLIENT = "client"
    CLINICIAN = "clinician"
    ADMIN = "admin"


class CourseStatus(StrEnum):
    SCREENING = "screening"
    PREPARATION = "preparation"
    DOSING = "dosing"
    INTEGRATION = "integration"
    COMPLETED = "completed"
    ON_HOLD = "on_hold"
    WITHDRAWN = "withdrawn"


class DosingRoute(StrEnum):
    SUBLINGUAL_LOZENGE = "sublingual_lozenge"
    INTRAMUSCULAR = "intramuscular"
    INTRAVENOUS = "intravenous"
    NASAL_SPRAY = "nasal_spray"


class DosingSetting(StrEnum):
    IN_CLINIC = "in_clinic"
    AT_HOME = "at_home"


class DosingStatus(StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ON_HOLD = "on_hold"


ROUTE_LABELS = {
    DosingRoute.SUBLINGUAL_LOZENGE: "Lozenge (under the tongue)",
    DosingRoute.INTRAMUSCULAR: "Injection (intramuscular)",
    DosingRoute.INTRAVENOUS: "Infusion (IV)",
    DosingRoute.NASAL_SPRAY: "Nasal spray",
}
SETTING_LABELS = {DosingSetting.IN_CLINIC: "At the clinic", DosingSetting.AT_HOME: "At home"}
COURSE_STATUS_LABELS = {
    CourseStatus.SCREENING: "Screening and consent",
    CourseStatus.PREPARATION: "Preparation",
    CourseStatus.DOSING: "Dosing sessions",
    CourseStatus.INTEGRATION: "Integration",
    CourseStatus.COMPLETED: "Course completed",
    CourseStatus.ON_HOLD: "On hold",
    CourseStatus.WITHDRAWN: "Withdrawn",
}


class Readiness(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class AlertSeverity(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    ROUTINE = "routine"


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class ResponseStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class ValueKind(StrEnum):
    """What a checklist item carries besides its tick."""

    NONE = "none"
    CHAPERONE = "chaperone"  # name and phone
    BLOOD_PRESSURE = "blood_pressure"  # systolic, diastolic, pulse
    TEXT = "text"  # the intention


class AppliesTo(StrEnum):
    ANY = "any"
    IN_CLINIC = "in_clinic"
    AT_HOME = "at_home"
