"""The checklist's state: one row per step, with its typed values and messages at each field."""

from __future__ import annotations

from dataclasses import dataclass, replace

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import ChecklistItemView, ChecklistView, ReasonView
from kapjourney.services import checklists
from kapjourney.services.validation import record_id
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.session_state import remember

TEXT_MAX = 10_000
FIELDS = ("name", "phone", "text", "systolic", "diastolic", "pulse")


@dataclass
class CheckRow:
    item_id: int = 0
    label: str = ""
    help: str = ""
    due: str = ""
    late: bool = False
    done: bool = False
    done_at: str = ""
    kind: str = "none"
    summary: str = ""
    name: str = ""
    phone: str = ""
    text: str = ""
    systolic: str = ""
    diastolic: str = ""
    pulse: str = ""
    e_name: str = ""
    e_phone: str = ""
    e_text: str = ""
    e_systolic: str = ""
    e_diastolic: str = ""
    e_pulse: str = ""
    e_form: str = ""


def _row(item: ChecklistItemView) -> CheckRow:
    values = {k: item.values.get(k, "") for k in FIELDS}
    return CheckRow(
        item_id=item.item_id,
        label=item.label,
        help=item.help,
        due=item.due,
        late=item.late,
        done=item.done,
        done_at=item.done_at,
        kind=item.value_kind,
        summary=item.summary,
        **values,
    )


class PrepareState(rx.State):
    loaded: bool = False
    missing: bool = False
    title: str = ""
    when: str = ""
    how: str = ""
    stop_eating_at: str = ""
    status: str = ""
    level: str = ""
    label: str = ""
    reasons: list[ReasonView] = []
    rows: list[CheckRow] = []
    progress: str = ""

    def _take(self, view: ChecklistView) -> None:
        self.title, self.when, self.status = view.title, view.when, view.status
        self.how = f"{view.route_label} · {view.setting_label}"
        self.stop_eating_at = view.stop_eating_at
        self.level, self.label = view.readiness.level, view.readiness.label
        self.reasons = view.readiness.reasons
        self.rows = [_row(i) for i in view.items]
        self.progress = f"{view.done} of {view.total} done"

    def _mark(self, item_id: int, fields: dict[str, str]) -> None:
        """Messages at the fields of one step; the other steps keep theirs cleared."""
        messages = {f"e_{k}": str(fields.get(k, ""))[:300] for k in (*FIELDS, "form")}
        self.rows = [replace(r, **messages) if r.item_id == item_id else r for r in self.rows]

    @rx.event
    @authorized(Role.CLIENT)
    async def load(self):
        await remember(self)
        self.loaded = self.missing = False
        raw = getattr(self, "dosing_session_id", "")
        dosing_id = record_id(raw if isinstance(raw, str) else "")
        try:
            if not dosing_id:
                raise NotFound("dosing session")
            self._take(await call_service(checklists.get_checklist, dosing_session_id=dosing_id))
        except NotFound:
            self.missing = True
        self.loaded = True

    @rx.event
    @authorized(Role.CLIENT)
    async def complete(self, form_data: dict):
        """Tick a step, with the values typed in its card."""
        data = form_data if isinstance(form_data, dict) else {}
        item_id = record_id(data.get("item_id"))
        if not item_id:
            return rx.toast.error("Not found.")
        values = {k: str(data[k])[:TEXT_MAX] for k in FIELDS if k in data}
        try:
            view = await call_service(checklists.complete_item, item_id=item_id, values=values)
        except ValidationFailed as problem:
            self._mark(item_id, problem.fields)
            return None
        except NotFound:
            return rx.toast.error("Not found.")
        self._take(view)
        return None

    @rx.event
    @authorized(Role.CLIENT)
    async def reopen(self, item_id: int):
        """Undo a tick; the value stays, ready to edit."""
        checked = record_id(item_id)
        try:
            if not checked:
                raise NotFound("item")
            view = await call_service(checklists.reopen_item, item_id=checked)
        except ValidationFailed as problem:
            return rx.toast.error(next(iter(problem.fields.values()), "Please try again."))
        except NotFound:
            return rx.toast.error("Not found.")
        self._take(view)
        return None

    @rx.event
    @authorized(Role.CLIENT)
    async def save_draft(self, item_id: int, field: str, value: str):
        """Keep what is typed as soon as the field is left, so nothing is lost."""
        checked = record_id(item_id)
        if not checked or field not in FIELDS or not isinstance(value, str):
            return
        try:
            await call_service(
                checklists.save_item_draft, item_id=checked, field=field, value=value[:TEXT_MAX]
            )
        except (NotFound, ValidationFailed):
            return
