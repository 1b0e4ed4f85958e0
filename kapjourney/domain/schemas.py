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
    todos: list[TodoItem] = Field(default_factory=list)  # check-in, questionnaires, reports...
    reminders_on: bool = True  # a phone of theirs can receive reminders (else Today offers them)


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
    next_form: str = ""  # the questionnaire to go to straight after ("cssrs"), else ""
    tier: str = ""  # the safety tier the answers met: "" | routine | urgent | emergency


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
    escalated: bool = False  # nobody acknowledged it within the clinic's minutes
    assigned_to: str = ""  # the clinician it was reassigned to, if any


class TodoItem(_View):
    """One thing for the client to do now, as Today lists it."""

    key: str  # stable, for element ids: "checkin", "form-phq9", "report-12-1440", "exercise-3"
    title: str
    detail: str = ""
    href: str
    icon: str = "circle"
    urgent: bool = False
    done: bool = False


# --- Client journey II: each area keeps its view models under its own heading -----------------

# --- Check-ins (issue 4) ---


class CheckInScaleView(_View):
    key: str  # mood | anxiety | sleep | energy
    question: str
    required: bool
    anchors: list[ChoiceView]  # values 1..5 with their words


class CheckInView(_View):
    """One day's check-in as the client sees it (today's, or yesterday's while it is open)."""

    day: str  # today | yesterday
    local_date: str  # ISO date in the client's time zone
    date_label: str  # "Saturday 21 November"
    status: str  # new | draft | submitted
    mood: int | None = None
    anxiety: int | None = None
    sleep: int | None = None
    energy: int | None = None
    note: str = ""
    late: bool = False
    saved_at: str = ""  # local time of the last submission ("9:14 am"), "" before one
    yesterday_open: bool = False  # yesterday's check-in can still be entered (marked late)
    yesterday_until: str = ""  # when that window closes ("12:00 pm"), "" when closed
    note_max: int
    scales: list[CheckInScaleView]
    problems: dict[str, str] = Field(default_factory=dict)  # field -> message (e.g. a long note)
    replayed: bool = False  # this submission id was already applied: nothing changed


# --- Questionnaires on a schedule and progress (issue 4) ---


class MoodPoint(_View):
    """One day of the 30-day chart; None where no check-in was made (a gap, not a zero)."""

    day: str  # "Nov 3", for the axis
    date: str  # ISO date
    mood: int | None = None
    anxiety: int | None = None
    sleep: int | None = None


class ScoreCell(_View):
    instrument: str
    title: str  # "PHQ-9"
    score: int
    max_score: int
    band: str
    response: bool = False  # at least 50% below the baseline
    remission: bool = False  # PHQ-9 below 5


class ScoreRow(_View):
    label: str  # "Baseline", "Before session 2", "Since session 4"
    when: str  # the local date of the newest score in the row
    scores: list[ScoreCell]


class ProgressView(_View):
    client_id: int
    first_name: str
    points: list[MoodPoint]  # the last 30 local days, oldest first
    chart_summary: str  # the chart in words, for screen readers and everyone
    rows: list[ScoreRow]
    streak: int
    streak_since: str
    last_7: int
    last_30: int
    streak_message: str


# --- Symptom reports and safety rules (issue 4) ---


class SymptomItemView(_View):
    key: str
    number: int
    text: str
    choices: list[ChoiceView]
    answer: str  # the saved draft value as text ("" when unanswered)


class SymptomReportView(_View):
    """A post-session symptom report as the client fills it in (draft or sent)."""

    dosing_session_id: int
    offset_minutes: int
    title: str  # "24 hours after session 2"
    session_number: int
    offset_label: str  # "24 hours"
    preamble: str
    source: str
    items: list[SymptomItemView]
    systolic: str = ""
    diastolic: str = ""
    pulse: str = ""
    note: str = ""
    submitted: bool = False
    hours_since_dosing: float
    answered: int = 0
    required: int = 0
    alert_tier: str = ""  # this report's alert so far: "" | routine | urgent | emergency
    emergency_number: str = ""


class ReportResult(_View):
    report_id: int
    tier: str  # "" | routine | urgent | emergency
    follow_cssrs: bool  # thoughts of self-harm: the C-SSRS screener follows the support screen
    replayed: bool = False  # this submission id was already applied: same result, nothing new


class SymptomReportRow(_View):
    """One report for the care team."""

    report_id: int
    date: str
    session_number: int
    offset_label: str
    status: str  # "Sent" | "Not sent yet"
    max_grade: int
    max_grade_label: str
    triage: str  # none | routine | urgent | emergency
    present: list[str]  # "Headache: Grade 2 (moderate)", only what was present
    vitals: str  # "182/112, pulse 96" or ""
    note: str = ""


class SupportView(_View):
    clinic_name: str
    emergency_number: str
    crisis_line_name: str
    crisis_line_number: str
    clinic_phone: str
    tier: str = ""  # the newest unresolved alert of the last 24 hours: "" | routine | urgent | ...
    has_safety_plan: bool = False
    warning_signs: str = ""  # safety plan step 1
    coping: str = ""  # safety plan step 2
    follow_up_href: str = ""  # a questionnaire to answer next (the C-SSRS), or ""


class SafetyRuleRow(_View):
    code: str
    label: str
    source: str
    watches: str  # what the rule reads, in words
    tier: str
    default_tier: str
    tier_choices: list[str]  # the tiers this rule may take: its published tier or graver
    has_threshold: bool
    threshold: str = ""
    default_threshold: str = ""
    threshold_label: str = ""
    threshold_hint: str = ""
    has_pressure: bool = False
    systolic: str = ""
    diastolic: str = ""
    default_pressure: str = ""
    changed: bool = False  # differs from the published default


class SafetyRulesView(_View):
    can_edit: bool
    rules: list[SafetyRuleRow]
    emergency_number: str
    crisis_line_name: str
    crisis_line_number: str


# --- Safety plan and integration exercises (issue 4) ---


class SafetyPlanStepView(_View):
    key: str  # a column of SafetyPlan: warning_signs, coping, ... environment, reasons
    number: int  # 1-6; 0 for "what matters most"
    heading: str
    prompt: str
    examples: str
    text: str


class SafetyPlanView(_View):
    client_id: int
    client_name: str
    steps: list[SafetyPlanStepView]
    written: bool  # any step has text
    updated: str  # "Last updated Today, 3:04 pm by Dr. Maya Chen", or "Not written yet"
    source: str
    clinic_name: str
    clinic_phone: str
    emergency_number: str
    crisis_line_name: str
    crisis_line_number: str


class ExerciseRow(_View):
    assignment_id: int
    key: str
    title: str
    kind: str
    minutes: int
    due: str  # "Due today", "Due Mon 23 Nov", "Was due Sat 21 Nov"
    due_date: str  # ISO
    overdue: bool
    status: str  # assigned | completed | withdrawn
    session_label: str  # "After session 3" or ""
    note: str  # the clinician's words to the client
    completed: str  # when it was marked done, in the client's time zone ("" when not)
    response: str  # the client's writing: for staff, and only once it is marked done
    assigned_by: str
    href: str


class ExerciseView(_View):
    assignment_id: int
    key: str
    title: str
    kind: str
    intro: str
    prompts: list[str]
    minutes: int
    source: str
    note: str
    due: str
    overdue: bool
    status: str
    session_label: str
    response: str  # the saved draft or the finished text
    intention: str  # the intention set before the session ("" when there was none)
    intention_session: str  # "Session 3, Tue 17 Nov" ("" when none)
    completed: str
    max_chars: int


# --- Reminders and devices (issue 5) ---


class DeviceView(_View):
    device_id: int
    label: str  # "Chrome on Android"
    status: str  # active | expired | unsubscribed | refused
    status_label: str
    added: str
    last_delivery: str  # "Reached this device Tue 17 Nov, 19:00" / "No reminder sent yet"
    healthy: bool


class ReminderSettingsView(_View):
    is_client: bool
    checkin_enabled: bool
    checkin_time: str
    quiet_start: str
    quiet_end: str
    devices: list[DeviceView]
    permission: str  # as last reported by a device: granted | denied | default | ""
    problems: dict[str, str] = {}


class DeliveryHealthView(_View):
    """Whether reminders are reaching a client, for their care team."""

    state: str  # reaching | failing | expired | revoked | never | off
    label: str
    detail: str
    last_success: str
    devices: list[DeviceView]


# --- The alert inbox (issue 6, item 1) ---------------------------------------------------------


class InboxRow(_View):
    """One open or acknowledged alert in the care team's inbox."""

    alert_id: int
    client_id: int
    client_name: str
    can_open_client: bool  # the client's page is reachable (caseload, or an admin)
    severity: str
    status: str
    reason: str  # the rule's label for the care team
    source: str  # what the client recorded: "After-session report", ...
    raised: str  # "Today, 9:05 am"
    waiting: str  # time since raised: "12 min"
    acknowledged_by: str
    acknowledged: str
    escalated: bool
    assigned_to: str


class InboxView(_View):
    rows: list[InboxRow]
    clinicians: list[tuple[int, str]]  # whom an alert may be reassigned to
    outcomes: list[tuple[str, str]]  # code, label


# --- Caseload dashboard (issue 6) ---


class CaseloadRow(_View):
    """One client on the caseload dashboard, read from their ``ClientSummary``."""

    client_id: int
    name: str
    stage: str  # the course's stage label ("No course" without one)
    on_time_7: int  # check-ins on time / late over the enrolled days of the last 7 (30) days
    late_7: int
    days_7: int
    on_time_30: int
    late_30: int
    days_30: int
    recency: str  # 2d | 7d | older | never
    recency_label: str
    streak: int
    last_mood: int | None
    mood_14d: list[int | None]  # 14 local days, oldest first; None where no check-in
    phq9: str  # "12 · Moderate · −6 from 18" ("" when none)
    gad7: str
    next_session: str  # "Tomorrow, 10:00 am" in the viewer's time zone ("" when none)
    readiness: str  # green | amber | red | ""
    alerts_emergency: int
    alerts_urgent: int
    alerts_routine: int
    reminders: str  # "Reaching them", "Not getting through", ... (delivery health's label)
    href: str
    reminders_state: str = ""  # reaching | failing | expired | revoked | never | off | waiting
    attention: int = 0  # higher needs attention first (domain.adherence.ATTENTION)


class CaseloadView(_View):
    rows: list[CaseloadRow]
    total: int  # rows matching the search and filter, on every page
    page: int
    pages: int
    query: str
    recency: str  # "" for every tier


NextSessionView.model_rebuild()
TodayView.model_rebuild()
