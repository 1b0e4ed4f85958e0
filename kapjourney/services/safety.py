"""A clinic's safety rules, and applying them to a report in the transaction that stores it."""

from __future__ import annotations

from sqlmodel import Session, select

from kapjourney.domain.enums import AlertSeverity
from kapjourney.domain.models import Alert, ClinicSafetyRule, User
from kapjourney.domain.safety import (
    RULES_BY_CODE,
    Facts,
    RuleSetting,
    SafetyRule,
    Triage,
    configured,
    evaluate,
)
from kapjourney.services import alerts


def clinic_settings(session: Session, clinic_id: int) -> dict[str, RuleSetting]:
    rows = session.exec(select(ClinicSafetyRule).where(ClinicSafetyRule.clinic_id == clinic_id))
    return {
        row.code: RuleSetting(
            tier=AlertSeverity(row.tier),
            threshold=row.threshold,
            systolic=row.systolic,
            diastolic=row.diastolic,
        )
        for row in rows
        if row.code in RULES_BY_CODE
    }


def rules_for(session: Session, clinic_id: int) -> tuple[SafetyRule, ...]:
    """The clinic's rules: published defaults with the clinic's settings applied."""
    return configured(clinic_settings(session, clinic_id))


def apply(
    session: Session, *, client: User, facts: Facts, source_kind: str, source_id: int
) -> tuple[Triage, Alert | None]:
    """Triage a stored (or just-saved) report and raise or raise-up its alert, in the caller's
    transaction. If the alert cannot be written the caller's transaction fails, and the report
    with it: no report is kept without its alert."""
    triage = evaluate(facts, rules_for(session, client.clinic_id))
    alert = alerts.raise_for(
        session, client=client, triage=triage, source_kind=source_kind, source_id=source_id
    )
    return triage, alert
