"""The client's Stanley-Brown safety plan: written with the clinician, editable by the client.

Both the client and their care team may read and edit it; each saved step is audited by its key
only (the words are health data and stay out of the log).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from kapjourney.clock import now
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.exercises import SAFETY_PLAN_SOURCE, SAFETY_STEPS, STEP_MAX, STEPS
from kapjourney.domain.models import Clinic, SafetyPlan, User
from kapjourney.domain.schemas import Actor, SafetyPlanStepView, SafetyPlanView
from kapjourney.services import audit
from kapjourney.services.clients import load_client, own_or
from kapjourney.services.formatting import when
from kapjourney.services.validation import clean_text


def has_safety_plan(session: Session, client_id: int) -> bool:
    """Whether the client has written anything in their safety plan yet."""
    plan = session.get(SafetyPlan, client_id)
    return plan is not None and any(getattr(plan, s.key).strip() for s in SAFETY_STEPS)


def _updated(session: Session, plan: SafetyPlan | None, actor: Actor, client: User) -> str:
    if plan is None or not any(getattr(plan, s.key) for s in SAFETY_STEPS):
        return "Not written yet"
    editor = session.get(User, plan.updated_by_id) if plan.updated_by_id else None
    if editor is None:
        who = ""
    elif editor.id == actor.user_id:
        who = " by you"
    else:
        who = f" by {editor.display_name}"
    # Shown in the reader's own time zone: the client's, or the clinician's.
    return f"Last updated {when(plan.updated_at, actor.timezone or client.timezone)}{who}"


def _view(session: Session, client: User, actor: Actor) -> SafetyPlanView:
    plan = session.get(SafetyPlan, client.id)
    clinic = session.get(Clinic, client.clinic_id)
    steps = [
        SafetyPlanStepView(
            key=s.key,
            number=s.number,
            heading=s.heading,
            prompt=s.prompt,
            examples=s.examples,
            text=getattr(plan, s.key) if plan else "",
        )
        for s in SAFETY_STEPS
    ]
    return SafetyPlanView(
        client_id=client.id or 0,
        client_name=client.display_name,
        steps=steps,
        written=any(s.text.strip() for s in steps),
        updated=_updated(session, plan, actor, client),
        source=SAFETY_PLAN_SOURCE,
        clinic_name=clinic.name if clinic else "",
        clinic_phone=clinic.crisis_phone if clinic else "",
        emergency_number=clinic.emergency_number if clinic else "911",
        crisis_line_name=clinic.crisis_line_name if clinic else "",
        crisis_line_number=clinic.crisis_line_number if clinic else "",
    )


def get_safety_plan(*, session: Session, actor: Actor, client_id: object = None) -> SafetyPlanView:
    """The plan: a client's own (``client_id`` None), or a care-team member's client's."""
    purpose = "safety_plan_viewed"
    client = load_client(
        session, actor=actor, client_id=own_or(actor, client_id, purpose), purpose=purpose
    )
    return _view(session, client, actor)


def _plan_for(session: Session, client: User) -> SafetyPlan:
    """The client's plan row, made on first save (a concurrent first save is tolerated)."""
    plan = session.get(SafetyPlan, client.id)
    if plan is not None:
        return plan
    try:
        with session.begin_nested():
            session.add(SafetyPlan(client_id=client.id or 0, clinic_id=client.clinic_id))
            session.flush()
    except IntegrityError:  # another tab made it a moment ago
        pass
    return session.get(SafetyPlan, client.id, populate_existing=True)  # type: ignore[return-value]


def save_safety_plan_step(
    *, session: Session, actor: Actor, step: object, text: object, client_id: object = None
) -> SafetyPlanView:
    """Save one step as it is typed (the client, or their care team with them)."""
    purpose = "safety_plan_updated"
    client = load_client(
        session, actor=actor, client_id=own_or(actor, client_id, purpose), purpose=purpose
    )
    spec = STEPS.get(step) if isinstance(step, str) else None
    if spec is None:
        raise ValidationFailed({"form": "That part of the plan does not exist. Please reload."})
    if text is not None and not isinstance(text, str):
        raise ValidationFailed({spec.key: "Please write this as text."})
    cleaned = clean_text(text, max_length=STEP_MAX)
    if len(cleaned) > STEP_MAX:
        raise ValidationFailed(
            {
                spec.key: f"This step can hold up to {STEP_MAX:,} characters. Please shorten it "
                "a little; what you wrote is still here."
            }
        )
    plan = _plan_for(session, client)
    if getattr(plan, spec.key) != cleaned:
        setattr(plan, spec.key, cleaned)
        plan.updated_at = now()
        plan.updated_by_id = actor.user_id
        session.add(plan)
        session.flush()
        audit.record(
            session,
            action=purpose,
            actor_id=actor.user_id,
            subject_client_id=client.id,
            target=f"safety_plan:{client.id}",
            ip=actor.ip,
            detail=f"step={spec.key}",
        )
    return _view(session, client, actor)
