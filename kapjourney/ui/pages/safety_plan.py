"""The client's safety plan: the six Stanley-Brown steps, each saved as it is typed.

Step 5 carries the clinic's and the crisis lines' numbers as tap-to-call links. What is typed is
never replaced by the page: a refused save (too long) shows its message at the step and keeps
every character in the box.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.exercises import STEP_MAX, STEPS
from kapjourney.domain.schemas import SafetyPlanStepView, SafetyPlanView
from kapjourney.routes import CRISIS, SAFETY_PLAN, TODAY
from kapjourney.services.safety_plan import get_safety_plan, save_safety_plan_step
from kapjourney.ui.components.choices import opening_then
from kapjourney.ui.components.fields import field_error
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.layout import client_page
from kapjourney.ui.session_state import remember

SAVE_DELAY_MS = 900
SENT_MAX = STEP_MAX + 1  # the browser sends at most this much: enough to know it is too long


class SafetyPlanState(rx.State):
    loaded: bool = False
    failed: bool = False
    steps: list[SafetyPlanStepView] = []
    errors: dict[str, str] = {}
    updated: str = ""
    saved: str = ""
    source: str = ""
    clinic_name: str = ""
    clinic_phone: str = ""
    emergency_number: str = ""
    crisis_line_name: str = ""
    crisis_line_number: str = ""
    version: int = 0  # bumped on each load: the boxes remount with the text just read

    def _take(self, view: SafetyPlanView) -> None:
        self.steps = view.steps
        self.errors = {s.key: "" for s in view.steps} | {"form": ""}
        self.updated, self.source = view.updated, view.source
        self.clinic_name, self.clinic_phone = view.clinic_name, view.clinic_phone
        self.emergency_number = view.emergency_number
        self.crisis_line_name = view.crisis_line_name
        self.crisis_line_number = view.crisis_line_number

    @rx.event
    @authorized(Role.CLIENT)
    async def load(self):
        await remember(self)
        self.loaded = self.failed = False
        self.saved = ""
        self.version += 1
        try:
            self._take(await call_service(get_safety_plan))
        except NotFound:
            self.failed = True
        self.loaded = True

    @rx.event
    @authorized(Role.CLIENT)
    async def save(self, step: str, text: str):
        """One step, on leaving the box and after a pause in typing."""
        if not isinstance(step, str) or step not in STEPS or not isinstance(text, str):
            return
        try:
            view = await call_service(save_safety_plan_step, step=step, text=text[:SENT_MAX])
        except ValidationFailed as problem:
            self.errors[step] = str(problem.fields.get(step, "Please check this step."))[:300]
            self.errors["form"] = str(problem.fields.get("form", ""))[:300]
            self.saved = ""
            return
        except NotFound:
            self.errors["form"] = "We couldn't save that just now. Please reload the page."
            return
        self.errors[step] = ""
        self.errors["form"] = ""
        self.updated = view.updated
        self.saved = "Saved"


def _call(text: str, href: rx.Var | str, icon: str, label: rx.Var | str, **props) -> rx.Component:
    return rx.link(
        rx.button(
            rx.icon(icon, size=18, aria_hidden="true"),
            text,
            size="3",
            width="100%",
            variant="soft",
            high_contrast=True,
            white_space="normal",
            height="auto",
            min_height="48px",
            padding_y="8px",
            **props,
        ),
        href=href,
        aria_label=label,
        width="100%",
    )


def _crisis_numbers() -> rx.Component:
    s = SafetyPlanState
    return rx.vstack(
        rx.cond(
            s.clinic_phone != "",
            _call(
                "Call " + s.clinic_name,
                "tel:" + s.clinic_phone,
                "building-2",
                "Call " + s.clinic_name + ", your clinic, on " + s.clinic_phone,
                id="call-clinic",
            ),
        ),
        _call(
            "Call " + s.crisis_line_name,
            "tel:" + s.crisis_line_number,
            "phone",
            "Call " + s.crisis_line_name + " on " + s.crisis_line_number,
            id="call-crisis-line",
        ),
        _call(
            "Text " + s.crisis_line_number,
            "sms:" + s.crisis_line_number,
            "message-circle",
            "Text " + s.crisis_line_number + ", " + s.crisis_line_name,
        ),
        _call(
            "Emergency: call " + s.emergency_number,
            "tel:" + s.emergency_number,
            "siren",
            "Emergency: call " + s.emergency_number,
            color_scheme="red",
            id="call-emergency",
        ),
        spacing="2",
        width="100%",
        id="crisis-numbers",
    )


def _step(step: SafetyPlanStepView) -> rx.Component:
    field_id = "plan-" + step.key
    error = SafetyPlanState.errors[step.key].to(str)
    return rx.card(
        rx.vstack(
            rx.cond(
                step.number > 0,
                rx.badge("Step ", step.number.to_string(), variant="soft", size="2"),
                rx.badge("What matters most", variant="soft", color_scheme="gray", size="2"),
            ),
            rx.el.label(
                step.heading,
                html_for=field_id,
                font_weight="600",
                font_size="17px",
            ),
            rx.text(step.prompt, size="2", id=field_id + "-prompt"),
            rx.text(step.examples, size="2", color_scheme="gray"),
            rx.text_area(
                id=field_id,
                key=SafetyPlanState.version.to_string() + "-" + step.key,
                default_value=step.text,
                on_blur=lambda v: SafetyPlanState.save(step.key, v[:SENT_MAX]),
                on_change=lambda v: SafetyPlanState.save(step.key, v[:SENT_MAX]).debounce(
                    SAVE_DELAY_MS
                ),
                aria_describedby=field_id + "-prompt " + field_id + "-error",
                aria_invalid=rx.cond(error != "", "true", "false"),
                rows="4",
                size="3",
                width="100%",
                resize="vertical",
            ),
            field_error(error, field_id + "-error"),
            rx.cond(step.key == "professionals", _crisis_numbers()),
            spacing="2",
            width="100%",
            align="start",
        ),
        width="100%",
        id="step-" + step.key,
        class_name="plan-step",
    )


def _plan() -> rx.Component:
    s = SafetyPlanState
    return rx.vstack(
        rx.hstack(
            rx.text(s.updated, size="2", color_scheme="gray", id="plan-updated"),
            rx.text(s.saved, size="2", color_scheme="green", aria_live="polite", id="plan-saved"),
            spacing="3",
            wrap="wrap",
        ),
        rx.cond(
            s.errors["form"].to(str) != "",
            rx.callout(
                s.errors["form"].to(str),
                icon="info",
                color_scheme="red",
                role="alert",
                high_contrast=True,
            ),
        ),
        rx.foreach(s.steps, _step),
        rx.callout(
            rx.text(
                "If you are in danger right now, don't wait: ",
                rx.link(
                    "get help now", href=CRISIS, weight="bold", color="inherit", underline="always"
                ),
                ".",
            ),
            icon="life-buoy",
            color_scheme="red",
            high_contrast=True,
            width="100%",
        ),
        rx.text("Saved as you type. Source: ", s.source, size="1", color_scheme="gray"),
        spacing="4",
        width="100%",
    )


def _plan_or_failure() -> rx.Component:
    return rx.cond(
        SafetyPlanState.failed,
        rx.callout(
            "We couldn't open your safety plan just now. Please reload the page.",
            icon="info",
            width="100%",
        ),
        _plan(),
    )


@client_page(SAFETY_PLAN, "My safety plan", on_load=SafetyPlanState.load)
def safety_plan_page() -> rx.Component:
    return opening_then(
        rx.link("‹ Today", href=TODAY, size="2"),
        rx.heading("My safety plan", size="7", as_="h1"),
        rx.text(
            "A plan for hard moments, written with your care team. When things get difficult, "
            "start at step 1 and work down: if one step doesn't help, go on to the next.",
            size="3",
        ),
        loaded=SafetyPlanState.loaded,
        body=_plan_or_failure(),
    )
