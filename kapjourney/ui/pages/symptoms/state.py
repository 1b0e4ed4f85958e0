"""The symptom report's state: answers saved as given, messages at each field, then sending."""

from __future__ import annotations

import re
import uuid

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import SymptomItemView, SymptomReportView
from kapjourney.routes import SUPPORT
from kapjourney.services import symptoms
from kapjourney.services.validation import record_id, small_int
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.session_state import remember

TEXT_MAX = 10_000  # far above the note's limit: the service gives the message
WRITTEN = ("systolic", "diastolic", "pulse", "note")
HOLD_TIERS = ("urgent", "emergency")


def tel(number: str) -> str:
    """A tel: link for a clinic's number (stored as digits, spaces, dashes and +)."""
    digits = re.sub(r"[^0-9+]", "", number)
    return f"tel:{digits}" if digits else ""


def _param(state: rx.State, name: str) -> str:
    value = getattr(state, name, "")
    return value if isinstance(value, str) else ""


class SymptomReportState(rx.State):
    loaded: bool = False
    missing: bool = False
    title: str = ""
    preamble: str = ""
    source: str = ""
    items: list[SymptomItemView] = []
    answers: dict[str, str] = {}
    problems: dict[str, str] = {}
    systolic: str = ""
    diastolic: str = ""
    pulse: str = ""
    note: str = ""
    answered: int = 0
    required: int = 0
    submitted: bool = False
    result_tier: str = ""  # after sending: "" | routine (urgent and emergency go to SUPPORT)
    alert_tier: str = ""  # a worrying answer already with the care team
    emergency_number: str = ""
    emergency_href: str = ""
    form_error: str = ""
    _dosing_id: int = 0
    _offset: int = 0
    _submission_id: str = ""

    def _take(self, view: SymptomReportView) -> None:
        self.title, self.preamble, self.source = view.title, view.preamble, view.source
        self.items = view.items
        self.answers = {i.key: i.answer for i in view.items}
        self.problems = {k: "" for k in (*self.answers, *WRITTEN)}
        self.systolic, self.diastolic = view.systolic, view.diastolic
        self.pulse, self.note = view.pulse, view.note
        self.submitted = view.submitted
        self.required = view.required
        self.emergency_number = view.emergency_number
        self.emergency_href = tel(view.emergency_number)
        self._refresh(view)

    def _refresh(self, view: SymptomReportView) -> None:
        self.answered = view.answered
        self.alert_tier = view.alert_tier

    def _where(self) -> dict[str, int]:
        return {"dosing_session_id": self._dosing_id, "offset_minutes": self._offset}

    @rx.event
    @authorized(Role.CLIENT)
    async def load(self):
        await remember(self)
        self.loaded = self.missing = False
        self.form_error, self.result_tier = "", ""
        self._dosing_id = record_id(_param(self, "dosing_session_id"))
        self._offset = small_int(_param(self, "offset_minutes")[:12]) or 0
        self._submission_id = uuid.uuid4().hex  # one per visit: a double tap sends once
        try:
            if not self._dosing_id or self._offset <= 0:
                raise NotFound("report")
            self._take(await call_service(symptoms.get_report, **self._where()))
        except NotFound:
            self.missing = True
        self.loaded = True

    async def _save(self, field: str, value: str):
        try:
            view = await call_service(
                symptoms.save_report_answer, **self._where(), field=field, value=value
            )
        except ValidationFailed as problem:
            self.problems[field] = str(problem.fields.get(field, ""))[:300]
            self.form_error = str(problem.fields.get("form", ""))[:300]
            return
        except NotFound:
            return
        self.problems[field] = ""
        self._refresh(view)

    @rx.event
    @authorized(Role.CLIENT)
    async def choose(self, item: str, value: str):
        """A severity: saved to the draft at once."""
        if not isinstance(item, str) or item not in self.answers or small_int(value) is None:
            return
        self.answers[item] = str(value)
        await self._save(item, str(value))

    @rx.event
    @authorized(Role.CLIENT)
    async def write(self, field: str, value: str):
        """A reading or the note, saved when the field is left (what was typed stays put)."""
        if field not in WRITTEN or not isinstance(value, str):
            return
        await self._save(field, value[:TEXT_MAX])

    @rx.event
    @authorized(Role.CLIENT)
    async def submit(self):
        self.form_error = ""
        unsaved = next((k for k in WRITTEN if self.problems.get(k)), "")
        if unsaved:  # a reading or note on screen that was not saved: never send without it
            self.form_error = "Please fix the field marked below, or clear it, then send."
            return rx.scroll_to(f"item-{unsaved}")
        try:
            result = await call_service(
                symptoms.submit_report, **self._where(), submission_id=self._submission_id
            )
        except ValidationFailed as problem:
            self.problems = {k: str(problem.fields.get(k, ""))[:300] for k in self.problems}
            self.form_error = str(
                problem.fields.get("form", "Please check the answers marked below.")
            )[:300]
            first = next((i.key for i in self.items if self.problems.get(i.key)), "")
            if not first:
                first = next((k for k in WRITTEN if self.problems.get(k)), "")
            return rx.scroll_to(f"item-{first}" if first else "report-form")
        except NotFound:
            return rx.toast.error("Not found.")
        if result.tier in HOLD_TIERS:
            return rx.redirect(SUPPORT)
        self.submitted = True
        self.result_tier = result.tier
        return rx.scroll_to("report")
