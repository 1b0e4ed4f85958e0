"""The clinic's safety rules and crisis numbers. Everyone on staff reads them; admins change
them (each change audited). A rule's tier can be raised, never lowered below its default."""

from __future__ import annotations

from dataclasses import dataclass, replace
from dataclasses import field as dc_field

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import SafetyRuleRow, SafetyRulesView
from kapjourney.routes import SAFETY_RULES
from kapjourney.services.safety_rules import (
    get_safety_rules,
    update_crisis_numbers,
    update_safety_rule,
)
from kapjourney.ui.components.fields import SELECT_STYLE, field, field_error
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.layout import clinician_page
from kapjourney.ui.session_state import remember

STAFF = (Role.CLINICIAN, Role.ADMIN)
FIELD_MAX = 200
RULE_FIELDS = ("tier", "threshold", "systolic", "diastolic", "form")
TIER_LABELS = {"emergency": "Emergency", "urgent": "Urgent", "routine": "Routine"}


@dataclass
class RuleCard:
    code: str = ""
    label: str = ""
    source: str = ""
    watches: str = ""
    tier: str = ""
    tier_label: str = ""
    default_tier: str = ""
    tier_choices: list[str] = dc_field(default_factory=list)
    has_threshold: bool = False
    threshold: str = ""
    threshold_label: str = ""
    threshold_hint: str = ""
    has_pressure: bool = False
    systolic: str = ""
    diastolic: str = ""
    default_pressure: str = ""
    changed: bool = False
    e_tier: str = ""
    e_threshold: str = ""
    e_systolic: str = ""
    e_diastolic: str = ""
    e_form: str = ""


def _card(row: SafetyRuleRow) -> RuleCard:
    return RuleCard(
        **{k: v for k, v in row.model_dump().items() if k in RuleCard.__dataclass_fields__},
        tier_label=TIER_LABELS.get(row.tier, row.tier),
    )


class SafetyRulesState(rx.State):
    loaded: bool = False
    can_edit: bool = False
    rules: list[RuleCard] = []
    emergency_number: str = ""
    crisis_line_name: str = ""
    crisis_line_number: str = ""
    numbers_errors: dict[str, str] = {}
    form_key: int = 0

    def _take(self, view: SafetyRulesView) -> None:
        self.can_edit = view.can_edit
        self.rules = [_card(r) for r in view.rules]
        self.emergency_number = view.emergency_number
        self.crisis_line_name = view.crisis_line_name
        self.crisis_line_number = view.crisis_line_number

    @rx.event
    @authorized(*STAFF)
    async def load(self):
        await remember(self)
        self.numbers_errors = {}
        self._take(await call_service(get_safety_rules))
        self.loaded = True

    @rx.event
    @authorized(Role.ADMIN)
    async def save_rule(self, form_data: dict):
        data = form_data if isinstance(form_data, dict) else {}
        code = str(data.get("code", ""))[:60]
        values = {
            k: str(data[k])[:FIELD_MAX]
            for k in ("tier", "threshold", "systolic", "diastolic")
            if isinstance(data.get(k), str)
        }
        try:
            view = await call_service(update_safety_rule, code=code, **({"tier": ""} | values))
        except NotFound:
            return rx.toast.error("Only a clinic admin can change the safety rules.")
        except ValidationFailed as problem:
            messages = {f"e_{k}": str(problem.fields.get(k, ""))[:300] for k in RULE_FIELDS}
            self.rules = [replace(r, **messages) if r.code == code else r for r in self.rules]
            return None
        self._take(view)
        self.form_key += 1
        return rx.toast.success("Rule saved.")

    @rx.event
    @authorized(Role.ADMIN)
    async def save_numbers(self, form_data: dict):
        data = form_data if isinstance(form_data, dict) else {}
        names = ("emergency_number", "crisis_line_name", "crisis_line_number")
        values = {n: v[:FIELD_MAX] if isinstance(v := data.get(n), str) else "" for n in names}
        try:
            view = await call_service(update_crisis_numbers, **values)
        except NotFound:
            return rx.toast.error("Only a clinic admin can change the crisis numbers.")
        except ValidationFailed as problem:
            self.numbers_errors = {n: str(problem.fields.get(n, ""))[:300] for n in names}
            return None
        self.numbers_errors = {}
        self._take(view)
        self.form_key += 1
        return rx.toast.success("Crisis numbers saved.")


def _numbers() -> rx.Component:
    errors = SafetyRulesState.numbers_errors
    read_only = ~SafetyRulesState.can_edit
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Crisis numbers clients see", size="5", as_="h2"),
                rx.text(
                    "Shown on the support screen after a worrying report, with one-tap calling.",
                    size="2",
                ),
                rx.grid(
                    field(
                        "Emergency number",
                        name="emergency_number",
                        form="numbers",
                        error=errors["emergency_number"].to(str),
                        default_value=SafetyRulesState.emergency_number,
                        read_only=read_only,
                        max_length=FIELD_MAX,
                    ),
                    field(
                        "Crisis line name",
                        name="crisis_line_name",
                        form="numbers",
                        error=errors["crisis_line_name"].to(str),
                        default_value=SafetyRulesState.crisis_line_name,
                        read_only=read_only,
                        max_length=FIELD_MAX,
                    ),
                    field(
                        "Crisis line number",
                        name="crisis_line_number",
                        form="numbers",
                        error=errors["crisis_line_number"].to(str),
                        default_value=SafetyRulesState.crisis_line_number,
                        read_only=read_only,
                        max_length=FIELD_MAX,
                    ),
                    columns=rx.breakpoints(initial="1", md="3"),
                    gap="3",
                    width="100%",
                ),
                rx.cond(
                    SafetyRulesState.can_edit,
                    rx.button("Save numbers", type="submit", id="numbers-save"),
                ),
                spacing="3",
                width="100%",
                align="start",
            ),
            on_submit=SafetyRulesState.save_numbers,
            key=SafetyRulesState.form_key,
            no_validate=True,
            width="100%",
            id="numbers-form",
        ),
        width="100%",
    )


def _number_input(rule: RuleCard, name: str, label, value, error, hint=None) -> rx.Component:
    field_id = "rule-" + rule.code + "-" + name
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500", font_size="14px"),
        rx.input(
            id=field_id,
            name=name,
            default_value=value,
            read_only=~SafetyRulesState.can_edit,
            input_mode="numeric",
            max_length=6,
            width="120px",
            size="2",
            aria_describedby=field_id + "-error",
            aria_invalid=rx.cond(error != "", "true", "false"),
        ),
        field_error(error, field_id + "-error"),
        rx.text(hint, size="1", color_scheme="gray") if hint is not None else rx.fragment(),
        spacing="1",
        align="start",
    )


def _tier_select(rule: RuleCard) -> rx.Component:
    field_id = "rule-" + rule.code + "-tier"
    return rx.vstack(
        rx.el.label("Tier", html_for=field_id, font_weight="500", font_size="14px"),
        rx.el.select(
            rx.foreach(
                rule.tier_choices,
                lambda t: rx.el.option(t, value=t),
            ),
            id=field_id,
            name="tier",
            default_value=rule.tier,
            disabled=~SafetyRulesState.can_edit,
            aria_describedby=field_id + "-error",
            style={**SELECT_STYLE, "width": "160px", "text_transform": "capitalize"},
        ),
        field_error(rule.e_tier, field_id + "-error"),
        spacing="1",
        align="start",
    )


def _tier_badge(rule: RuleCard) -> rx.Component:
    return rx.badge(
        rule.tier_label,
        color_scheme=rx.match(rule.tier, ("emergency", "red"), ("urgent", "amber"), "gray"),
        high_contrast=True,
        size="2",
    )


def _rule(rule: RuleCard) -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.hstack(
                    _tier_badge(rule),
                    rx.heading(rule.label, size="3", as_="h3"),
                    rx.cond(rule.changed, rx.badge("Clinic setting", variant="outline")),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.text("Reads: ", rule.watches, size="2"),
                rx.el.input(type="hidden", name="code", value=rule.code),
                rx.hstack(
                    _tier_select(rule),
                    rx.cond(
                        rule.has_threshold,
                        _number_input(
                            rule,
                            "threshold",
                            rule.threshold_label,
                            rule.threshold,
                            rule.e_threshold,
                            rule.threshold_hint,
                        ),
                    ),
                    rx.cond(
                        rule.has_pressure,
                        rx.hstack(
                            _number_input(
                                rule,
                                "systolic",
                                "Systolic at or above",
                                rule.systolic,
                                rule.e_systolic,
                            ),
                            _number_input(
                                rule,
                                "diastolic",
                                "or diastolic at or above",
                                rule.diastolic,
                                rule.e_diastolic,
                                "Published default: " + rule.default_pressure,
                            ),
                            spacing="3",
                            wrap="wrap",
                        ),
                    ),
                    rx.cond(
                        SafetyRulesState.can_edit,
                        rx.button(
                            "Save",
                            type="submit",
                            variant="soft",
                            aria_label="Save rule: " + rule.label,
                            margin_top="22px",
                        ),
                    ),
                    spacing="4",
                    align="start",
                    wrap="wrap",
                ),
                rx.cond(
                    rule.e_form != "",
                    rx.text(rule.e_form, size="2", color_scheme="red", role="alert"),
                ),
                rx.text("Source: ", rule.source, size="1", color_scheme="gray"),
                spacing="2",
                width="100%",
            ),
            on_submit=SafetyRulesState.save_rule,
            no_validate=True,
            width="100%",
        ),
        width="100%",
        id="rule-" + rule.code,
        class_name="safety-rule",
    )


@clinician_page(SAFETY_RULES, "Safety rules", on_load=SafetyRulesState.load)
def safety_rules_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Safety rules", size="7", as_="h1"),
        rx.text(
            "A report that meets a rule raises an alert for the care team in the same moment "
            "it is saved. Urgent and emergency alerts put the client's next session on hold "
            "until someone reviews them. Defaults follow the clinical reference; a clinic may "
            "make a rule stricter, never switch it off or lower its tier.",
            size="2",
        ),
        rx.cond(
            SafetyRulesState.loaded,
            rx.vstack(
                rx.cond(
                    ~SafetyRulesState.can_edit,
                    rx.callout(
                        "Only a clinic admin can change these rules.",
                        icon="lock",
                        color_scheme="gray",
                        high_contrast=True,
                        id="rules-read-only",
                    ),
                ),
                _numbers(),
                rx.heading("Rules", size="5", as_="h2"),
                rx.vstack(
                    rx.foreach(SafetyRulesState.rules, _rule),
                    spacing="3",
                    width="100%",
                    key=SafetyRulesState.form_key,
                ),
                spacing="4",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="48px", width="100%"),
        ),
        spacing="4",
        width="100%",
    )
