"""The client's safety plan, written together in session: each step saved as it is typed."""

from __future__ import annotations

import secrets

import reflex as rx

from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.exercises import STEP_MAX, STEPS
from kapjourney.domain.schemas import SafetyPlanStepView, SafetyPlanView
from kapjourney.services.safety_plan import get_safety_plan, save_safety_plan_step
from kapjourney.ui.components.fields import field_error
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.pages.client_detail.common import NOT_FOUND, STAFF, panel

SENT_MAX = STEP_MAX + 1
SAVE_DELAY_MS = 900


class SafetyPlanPanelState(rx.State):
    steps: list[SafetyPlanStepView] = []
    errors: dict[str, str] = {}
    updated: str = ""
    written: bool = False
    saved: str = ""
    source: str = ""
    client_key: str = ""  # new on each load: the boxes remount with the text just read
    _client_id: int = 0

    def _apply(self, view: SafetyPlanView) -> None:
        self.updated, self.written, self.source = view.updated, view.written, view.source

    async def _refresh(self, client_id: int) -> None:
        view = await call_service(get_safety_plan, client_id=client_id)
        self._client_id = client_id
        self.client_key = f"{client_id}-{secrets.token_hex(4)}"
        self.steps = view.steps
        self.errors = {s.key: "" for s in view.steps}
        self.saved = ""
        self._apply(view)

    @rx.event
    @authorized(*STAFF)
    async def save(self, step: str, text: str):
        if not isinstance(step, str) or step not in STEPS or not isinstance(text, str):
            return None
        try:
            view = await call_service(
                save_safety_plan_step, step=step, text=text[:SENT_MAX], client_id=self._client_id
            )
        except NotFound:
            return rx.toast.error(NOT_FOUND)
        except ValidationFailed as problem:
            self.errors[step] = str(next(iter(problem.fields.values()), ""))[:300]
            self.saved = ""
            return None
        self.errors[step] = ""
        self.saved = "Saved"
        self._apply(view)
        return None


def _step(step: SafetyPlanStepView) -> rx.Component:
    field_id = "staff-plan-" + step.key
    error = SafetyPlanPanelState.errors[step.key].to(str)
    return rx.vstack(
        rx.el.label(
            rx.cond(step.number > 0, step.number.to_string() + ". ", ""),
            step.heading,
            html_for=field_id,
            font_weight="600",
        ),
        rx.text(step.prompt, size="1", color_scheme="gray", id=field_id + "-prompt"),
        rx.text_area(
            id=field_id,
            key=SafetyPlanPanelState.client_key + "-" + step.key,
            default_value=step.text,
            on_blur=lambda v: SafetyPlanPanelState.save(step.key, v[:SENT_MAX]),
            on_change=lambda v: SafetyPlanPanelState.save(step.key, v[:SENT_MAX]).debounce(
                SAVE_DELAY_MS
            ),
            aria_describedby=field_id + "-prompt " + field_id + "-error",
            aria_invalid=rx.cond(error != "", "true", "false"),
            rows="2",
            width="100%",
            resize="vertical",
        ),
        field_error(error, field_id + "-error"),
        spacing="1",
        width="100%",
    )


def safety_plan_panel() -> rx.Component:
    s = SafetyPlanPanelState
    return panel(
        "Safety plan",
        rx.hstack(
            rx.badge(
                rx.cond(s.written, "Written", "Not written yet"),
                color_scheme=rx.cond(s.written, "green", "amber"),
                high_contrast=True,
            ),
            rx.text(s.updated, size="2", color_scheme="gray", id="staff-plan-updated"),
            rx.text(s.saved, size="2", color_scheme="green", aria_live="polite"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.text(
            "Write it with the client; they can edit it on their phone too. Saved as you type.",
            size="2",
        ),
        rx.foreach(s.steps, _step),
        rx.text(s.source, size="1", color_scheme="gray"),
        panel_id="safety-plan-panel",
    )
