"""View models and inputs. Only these cross into the UI and HTTP adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from kapjourney.domain.enums import Role

if TYPE_CHECKING:
    from kapjourney.domain.models import User


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: resolved server-side from the session cookie, never from the browser."""

    user_id: int
    role: Role
    clinic_id: int
    display_name: str
    timezone: str
    ip: str = ""

    @classmethod
    def from_user(cls, user: User, *, ip: str = "") -> Actor:
        return cls(
            user_id=user.id or 0,
            role=Role(user.role),
            clinic_id=user.clinic_id,
            display_name=user.display_name,
            timezone=user.timezone,
            ip=ip,
        )

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.CLINICIAN, Role.ADMIN)


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class InviteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str = Field(default="", max_length=10_000)
    email: str = Field(default="", max_length=10_000)
    timezone: str = Field(default="", max_length=10_000)


class InviteCreated(_View):
    client_id: int
    email: str
    display_name: str
    path: str
    expires_at: datetime


class InviteStatus(_View):
    state: str  # "valid" | "expired" | "used" | "unknown"
    display_name: str = ""
    email: str = ""


class ClientRow(_View):
    client_id: int
    display_name: str
    email: str
    stage: str
    sessions_done: int
    sessions_planned: int
    next_session: str
    account: str  # "active" | "invited" | "invite expired" | "deactivated"
    readiness: str = ""  # the next session's light: green | amber | red ("" when none)
    readiness_label: str = ""
    blocking_reasons: int = 0


class NextSessionView(_View):
    dosing_session_id: int
    number: int
    planned: int
    when: str
    route: str
    setting: str
    readiness: ReadinessView
    steps_done: int
    steps_total: int


class TodayView(_View):
    first_name: str
    stage: str
    local_date: str
    next_session: NextSessionView | None = None
    clinic_name: str
    clinic_phone: str
    consent_todo: str = ""  # "" when consent is current, else what to say about it
    screening_todo: bool = False


class AuditChainReport(_View):
    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str = ""


# --- Clinic protocol -------------------------------------------------------------------------


class ProtocolSettingView(_View):
    name: str
    label: str
    unit: str
    value: int
    default: int
    low: int
    high: int
    source: str


class ProtocolView(_View):
    settings: list[ProtocolSettingView]
    followups: str
    followups_default: str
    followups_source: str
    updated: str


# --- Consent -------------------------------------------------------------------------------


class ConsentSectionView(_View):
    index: int
    title: str
    paragraphs: list[str]
    acknowledged: bool


class ConsentQuestionView(_View):
    index: int
    section_index: int
    section_title: str
    text: str
    choices: list[str]


class ConsentFlowView(_View):
    """What the client's consent screen needs, and where they are in it."""

    available: bool
    document_id: int = 0
    version: int = 0
    title: str = ""
    sha256: str = ""
    sections: list[ConsentSectionView] = []
    questions: list[ConsentQuestionView] = []
    all_acknowledged: bool = False
    quiz_passed: bool = False
    state: str = "none"  # current | none | outdated | withdrawn
    signature_id: int = 0
    signed_name: str = ""
    signed_at: str = ""
    signed_version: int = 0


class QuizResult(_View):
    passed: bool
    wrong: list[int]  # question indices answered wrongly (or not at all)
    sections: list[int]  # the sections to read again


class ConsentSignatureRow(_View):
    signature_id: int
    version: int
    sha256: str
    signed_name: str
    signed_at: str
    withdrawn_at: str = ""


class ConsentStatusView(_View):
    state: str
    current_version: int
    signatures: list[ConsentSignatureRow]


class ConsentSourceView(_View):
    version: int
    text: str
    published: str
    sha256: str


# --- Questionnaires and screening ------------------------------------------------------------


class ChoiceView(_View):
    value: int
    label: str


class FormItemView(_View):
    key: str
    number: int
    text: str
    kind: str
    choices: list[ChoiceView]
    required: bool
    hint: str
    answer: str  # the saved draft value, as text ("" when unanswered)


class QuestionnaireForm(_View):
    instrument: str
    title: str
    preamble: str
    source: str
    items: list[FormItemView]
    submitted: bool
    answered: int
    required: int


class AnswerSaved(_View):
    problem: str  # "" when the answer is fine
    alert: bool  # the answer raised an alert: show crisis resources now


class SubmitResult(_View):
    instrument: str
    title: str
    score: int | None
    band: str
    max_score: int
    alert: bool  # a worrying answer: show crisis resources now


class ScreeningTask(_View):
    instrument: str
    title: str
    minutes: int
    status: str  # todo | draft | done


class ScreeningView(_View):
    tasks: list[ScreeningTask]
    complete: bool
    reviewed: bool


class ScreeningResultRow(_View):
    instrument: str
    title: str
    score: str
    band: str
    submitted: str
    source: str


class ScreeningSummary(_View):
    results: list[ScreeningResultRow]
    flags: list[str]
    medicines: str
    complete: bool
    reviewed: bool
    reviewed_at: str
    pcl5_enabled: bool
    missing: list[str]


# --- Plan, checklists and readiness -----------------------------------------------------------


class ReasonView(_View):
    code: str
    text: str
    blocking: bool


class ReadinessView(_View):
    level: str  # green | amber | red
    label: str
    reasons: list[ReasonView]


class PlanSessionView(_View):
    dosing_session_id: int
    number: int
    when: str
    local_value: str  # "YYYY-MM-DDTHH:MM" in the client's time zone, for editing
    route: str
    route_label: str
    setting: str
    setting_label: str
    status: str
    status_label: str
    is_next: bool
    can_complete: bool = False  # scheduled and already started: the care team may mark it done
    readiness: ReadinessView | None = None
    steps_done: int = 0
    steps_total: int = 0


class PlanStepView(_View):
    label: str
    state: str  # done | current | upcoming
    detail: str


class PlanView(_View):
    client_id: int
    client_name: str
    timezone: str
    has_course: bool
    planned: int
    done: int
    stages: list[PlanStepView]
    sessions: list[PlanSessionView]
    next_action: str
    next_action_href: str


class SessionSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    local_datetime: str = Field(default="", max_length=100)
    route: str = Field(default="", max_length=100)
    setting: str = Field(default="", max_length=100)


class ChecklistItemView(_View):
    item_id: int
    key: str
    label: str
    help: str
    due: str
    late: bool
    done: bool
    done_at: str
    value_kind: str
    required: bool
    values: dict[str, str]  # the saved value(s), as typed
    summary: str  # a short text of the saved value, for the done state


class ChecklistView(_View):
    dosing_session_id: int
    client_id: int
    title: str
    when: str
    setting_label: str
    route_label: str
    status: str
    stop_eating_at: str
    readiness: ReadinessView
    items: list[ChecklistItemView]
    done: int
    total: int


class AlertRow(_View):
    alert_id: int
    severity: str
    status: str
    reason: str
    created: str


NextSessionView.model_rebuild()
TodayView.model_rebuild()
