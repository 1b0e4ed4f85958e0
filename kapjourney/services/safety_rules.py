"""A clinic's safety rules and crisis numbers (admins change them, every change audited), and
the support screen a client sees after a worrying report.

Rules start at the published defaults (``domain.safety``). A clinic may move a threshold within
its allowed range and raise a rule's tier; it may never lower a tier or switch a rule off.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from kapjourney.clock import as_utc, now
from kapjourney.domain.enums import AlertSeverity, AlertStatus, ResponseStatus, Role
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.instruments import INSTRUMENTS
from kapjourney.domain.models import (
    Alert,
    Clinic,
    ClinicSafetyRule,
    QuestionnaireResponse,
    SafetyPlan,
)
from kapjourney.domain.safety import (
    RULES,
    RULES_BY_CODE,
    TIER_ORDER,
    RuleSetting,
    SafetyRule,
    setting_problem,
)
from kapjourney.domain.schemas import Actor, SafetyRuleRow, SafetyRulesView, SupportView
from kapjourney.routes import form_url
from kapjourney.services import audit
from kapjourney.services.clients import deny, load_client
from kapjourney.services.safety import clinic_settings
from kapjourney.services.validation import clean_text, small_int

PHONE = re.compile(r"\+?[0-9][0-9 -]*")
NUMBER_MAX = 20
LINE_NAME_MAX = 80
WATCHES = {
    "phq9": "PHQ-9 answers",
    "cssrs": "C-SSRS answers",
    "symptoms": "After-session symptom reports",
    "vitals": "Blood pressure and pulse in symptom reports",
}
SUPPORT_WINDOW = timedelta(hours=24)


def _watches(rule: SafetyRule) -> str:
    text = WATCHES.get(rule.watches, rule.watches)
    if rule.min_hours:
        text += f", {rule.min_hours} hours or more after dosing"
    if rule.with_items:
        text += ", only with symptoms"
    return text


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def _row(rule: SafetyRule, setting: RuleSetting | None) -> SafetyRuleRow:
    s = setting or RuleSetting()
    low, high = rule.threshold_range
    threshold = s.threshold if s.threshold is not None else rule.threshold
    tier = s.tier if s.tier is not None else rule.tier
    return SafetyRuleRow(
        code=rule.code,
        label=rule.label,
        source=rule.source,
        watches=_watches(rule),
        tier=str(tier),
        default_tier=str(rule.tier),
        tier_choices=[str(t) for t in TIER_ORDER if TIER_ORDER[t] >= TIER_ORDER[rule.tier]][::-1],
        has_threshold=rule.threshold is not None and low < high,
        threshold=_text(threshold),
        default_threshold=_text(rule.threshold),
        threshold_label=rule.threshold_label or "Threshold",
        threshold_hint=f"From {low} to {high}. Published default: {rule.threshold}.",
        has_pressure=rule.systolic is not None,
        systolic=_text(s.systolic if s.systolic is not None else rule.systolic),
        diastolic=_text(s.diastolic if s.diastolic is not None else rule.diastolic),
        default_pressure=f"{rule.systolic}/{rule.diastolic}" if rule.systolic else "",
        changed=setting is not None and setting != RuleSetting(tier=rule.tier),
    )


def _view(session: Session, actor: Actor) -> SafetyRulesView:
    settings = clinic_settings(session, actor.clinic_id)
    clinic = session.get(Clinic, actor.clinic_id)
    return SafetyRulesView(
        can_edit=actor.role == Role.ADMIN,
        rules=[_row(rule, settings.get(rule.code)) for rule in RULES],
        emergency_number=clinic.emergency_number if clinic else "",
        crisis_line_name=clinic.crisis_line_name if clinic else "",
        crisis_line_number=clinic.crisis_line_number if clinic else "",
    )


def get_safety_rules(*, session: Session, actor: Actor) -> SafetyRulesView:
    """Every rule with the clinic's setting beside the published default (all staff read)."""
    if not actor.is_staff:
        raise deny(actor, "safety_rules_viewed")
    return _view(session, actor)


def _number(field: str, value: object, problems: dict[str, str]) -> int | None:
    """An optional whole number: None or "" keeps the published default."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = small_int(value)
    if number is None:
        problems[field] = "Enter a whole number."
    return number


def _tier(value: object, problems: dict[str, str]) -> AlertSeverity | None:
    if value is None or value == "":
        return None
    try:
        return AlertSeverity(value if isinstance(value, str) else "")
    except ValueError:
        problems["tier"] = "Choose emergency, urgent or routine."
        return None


def update_safety_rule(
    *,
    session: Session,
    actor: Actor,
    code: object,
    tier: object,
    threshold: object = None,
    systolic: object = None,
    diastolic: object = None,
) -> SafetyRulesView:
    """Set one rule for the clinic (admins only). Empty values keep the published default."""
    if actor.role != Role.ADMIN:
        raise deny(actor, "safety_rule_changed")
    rule = RULES_BY_CODE.get(code) if isinstance(code, str) else None
    if rule is None:
        raise ValidationFailed({"form": "That rule does not exist."})
    problems: dict[str, str] = {}
    setting = RuleSetting(
        tier=_tier(tier, problems),
        threshold=_number("threshold", threshold, problems),
        systolic=_number("systolic", systolic, problems),
        diastolic=_number("diastolic", diastolic, problems),
    )
    problems = setting_problem(rule, setting) | problems
    for name in ("threshold", "systolic", "diastolic"):
        if getattr(setting, name) is not None and getattr(rule, name) is None:
            problems.setdefault(name, "This rule has no such setting.")
    if (
        not problems.keys() & {"systolic", "diastolic"}
        and rule.systolic is not None
        and (setting.systolic or rule.systolic) <= (setting.diastolic or rule.diastolic or 0)
    ):
        problems["diastolic"] = "The diastolic limit must be below the systolic limit."
    if problems:
        raise ValidationFailed(problems)
    if _store(session, actor, rule, setting):
        audit.record(
            session,
            action="safety_rule_changed",
            actor_id=actor.user_id,
            target=rule.code,
            ip=actor.ip,
        )
    return _view(session, actor)


def _store(session: Session, actor: Actor, rule: SafetyRule, setting: RuleSetting) -> bool:
    """Write the clinic's row for ``rule``; True when anything changed."""
    row = session.exec(
        select(ClinicSafetyRule)
        .where(ClinicSafetyRule.clinic_id == actor.clinic_id, ClinicSafetyRule.code == rule.code)
        .with_for_update()
    ).first()
    values = {
        "tier": str(setting.tier or rule.tier),
        "threshold": setting.threshold,
        "systolic": setting.systolic,
        "diastolic": setting.diastolic,
    }
    if row is not None and all(getattr(row, k) == v for k, v in values.items()):
        return False
    if row is None:
        if values == {
            "tier": str(rule.tier),
            "threshold": None,
            "systolic": None,
            "diastolic": None,
        }:
            return False  # the published default, and nothing stored: nothing to change
        row = ClinicSafetyRule(clinic_id=actor.clinic_id, code=rule.code, tier=values["tier"])
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at, row.updated_by_id = now(), actor.user_id
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # another admin created it a moment ago: ask to look again
        raise ValidationFailed(
            {"form": "Someone else changed this rule just now. Reload and try again."}
        ) from None
    return True


def _phone(field: str, value: object, problems: dict[str, str], *, required: bool) -> str:
    text = clean_text(value, max_length=NUMBER_MAX)
    if not text:
        if required:
            problems[field] = "Enter a phone number."
    elif len(text) > NUMBER_MAX:
        problems[field] = f"Use at most {NUMBER_MAX} characters."
    elif not PHONE.fullmatch(text):
        problems[field] = "Use digits, spaces, dashes and a leading + only."
    return text


def update_crisis_numbers(
    *,
    session: Session,
    actor: Actor,
    emergency_number: object,
    crisis_line_name: object,
    crisis_line_number: object,
) -> SafetyRulesView:
    """The numbers clients see on the support screen (admins only; audited)."""
    if actor.role != Role.ADMIN:
        raise deny(actor, "crisis_numbers_changed")
    problems: dict[str, str] = {}
    emergency = _phone("emergency_number", emergency_number, problems, required=True)
    line = _phone("crisis_line_number", crisis_line_number, problems, required=False)
    name = clean_text(crisis_line_name, max_length=LINE_NAME_MAX)
    if len(name) > LINE_NAME_MAX:
        problems["crisis_line_name"] = f"Use at most {LINE_NAME_MAX} characters."
    elif "\n" in name or "\t" in name:
        problems["crisis_line_name"] = "Use a single line."
    elif line and not name:
        problems["crisis_line_name"] = "Name the crisis line, like 988 Suicide & Crisis Lifeline."
    elif name and not line and "crisis_line_number" not in problems:
        problems["crisis_line_number"] = "Enter the crisis line's number."
    if problems:
        raise ValidationFailed(problems)
    clinic = session.get(Clinic, actor.clinic_id)
    if clinic is None:
        raise deny(actor, "crisis_numbers_changed")
    new = (emergency, name, line)
    if (clinic.emergency_number, clinic.crisis_line_name, clinic.crisis_line_number) != new:
        clinic.emergency_number, clinic.crisis_line_name, clinic.crisis_line_number = new
        session.add(clinic)
        session.flush()
        audit.record(
            session,
            action="crisis_numbers_changed",
            actor_id=actor.user_id,
            target="clinic",
            ip=actor.ip,
        )
    return _view(session, actor)


# --- The client's support screen ------------------------------------------------------------------


def _recent_alert(session: Session, client_id: int) -> Alert | None:
    """The gravest unresolved alert raised in the last 24 hours (the newest among equals)."""
    recent = session.exec(
        select(Alert)
        .where(
            Alert.client_id == client_id,
            Alert.status != AlertStatus.RESOLVED,
            Alert.created_at >= now() - SUPPORT_WINDOW,
        )
        .order_by(Alert.created_at.desc(), Alert.id.desc())
    ).all()
    return max(recent, key=lambda a: TIER_ORDER.get(AlertSeverity(a.severity), 0), default=None)


def _cssrs_due(session: Session, client_id: int) -> bool:
    """Thoughts of self-harm in a recent report, and no C-SSRS answered since."""
    if "cssrs" not in INSTRUMENTS:
        return False
    since = now() - SUPPORT_WINDOW
    flagged = [
        a
        for a in session.exec(
            select(Alert).where(
                Alert.client_id == client_id,
                Alert.status != AlertStatus.RESOLVED,
                Alert.created_at >= since,
            )
        ).all()
        if "self_harm_thoughts" in (json.loads(a.rules or "[]") or [a.reason_code])
    ]
    if not flagged:
        return False
    first = min(as_utc(a.created_at) for a in flagged)
    answered = session.exec(
        select(QuestionnaireResponse.id).where(
            QuestionnaireResponse.client_id == client_id,
            QuestionnaireResponse.instrument == "cssrs",
            QuestionnaireResponse.status == ResponseStatus.SUBMITTED,
            QuestionnaireResponse.submitted_at >= first,
        )
    ).first()
    return answered is None


def get_support(*, session: Session, actor: Actor) -> SupportView:
    """Crisis resources, the care team's promise, and the client's own safety plan."""
    if not actor.is_client:
        raise deny(actor, "support_viewed")
    client = load_client(session, actor=actor, client_id=actor.user_id, purpose="support_viewed")
    clinic = session.get(Clinic, client.clinic_id)
    alert = _recent_alert(session, client.id or 0)
    plan = session.get(SafetyPlan, client.id)
    has_plan = plan is not None and any(
        getattr(plan, f).strip()
        for f in ("warning_signs", "coping", "distractions", "people", "professionals")
    )
    return SupportView(
        clinic_name=clinic.name if clinic else "",
        emergency_number=clinic.emergency_number if clinic else "",
        crisis_line_name=clinic.crisis_line_name if clinic else "",
        crisis_line_number=clinic.crisis_line_number if clinic else "",
        clinic_phone=clinic.crisis_phone if clinic else "",
        tier=str(alert.severity) if alert is not None else "",
        has_safety_plan=has_plan,
        warning_signs=plan.warning_signs[:2000] if plan else "",
        coping=plan.coping[:2000] if plan else "",
        follow_up_href=form_url("cssrs") if _cssrs_due(session, client.id or 0) else "",
    )
