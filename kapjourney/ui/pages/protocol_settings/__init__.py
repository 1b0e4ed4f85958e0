"""The clinic protocol: settings with their allowed ranges, published defaults and sources.

Admins edit; clinicians read. Below it, the consent document editor (``consent_editor``).
"""

from __future__ import annotations

import reflex as rx
from pydantic import BaseModel

from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import ProtocolView
from kapjourney.routes import PROTOCOL
from kapjourney.services.protocol import get_protocol, update_protocol
from kapjourney.ui.components.fields import field_error, form_error
from kapjourney.ui.guard import authorized, call_service, current_actor
from kapjourney.ui.layout import clinician_page
from kapjourney.ui.pages.protocol_settings.consent_editor import ConsentEditorState, consent_editor
from kapjourney.ui.session_state import remember

STAFF = (Role.CLINICIAN, Role.ADMIN)


class SettingRow(BaseModel):
    name: str
    label: str
    unit: str
    value: str
    hint: str
    source: str
    error: str = ""


class ProtocolState(rx.State):
    rows: list[SettingRow] = []
    followups: str = ""
    followups_hint: str = ""
    followups_error: str = ""
    form_error: str = ""
    updated: str = ""
    can_edit: bool = False
    loaded: bool = False
    form_key: int = 0

    def _apply(self, view: ProtocolView, errors: dict[str, str] | None = None) -> None:
        errors = errors or {}
        self.rows = [
            SettingRow(
                name=s.name,
                label=s.label,
                unit=s.unit,
                value=str(s.value),
                hint=f"Allowed {s.low}–{s.high} {s.unit}. Published default: {s.default} {s.unit}.",
                source=s.source,
                error=str(errors.get(s.name, ""))[:300],
            )
            for s in view.settings
        ]
        self.followups = view.followups
        self.followups_hint = (
            f"Published default: {view.followups_default}. {view.followups_source}"
        )
        self.followups_error = str(errors.get("followups", ""))[:300]
        self.updated = view.updated

    @rx.event
    @authorized(*STAFF)
    async def load(self):
        await remember(self)
        self.can_edit = current_actor().role == Role.ADMIN
        self._apply(await call_service(get_protocol))
        await (await self.get_state(ConsentEditorState))._refresh()
        self.loaded = True

    @rx.event
    @authorized(Role.ADMIN)
    async def save(self, form_data: dict):
        data = form_data if isinstance(form_data, dict) else {}
        names = [r.name for r in self.rows] + ["followups"]
        values = {n: data[n][:1000] for n in names if isinstance(data.get(n), str)}
        self.form_error = ""
        try:
            view = await call_service(update_protocol, values=values)
        except NotFound:
            return rx.toast.error("Only a clinic admin can change the protocol.")
        except ValidationFailed as problem:
            current = await call_service(get_protocol)
            self._apply(current, problem.fields)
            self.form_error = "Check the settings marked below."
            return None
        self._apply(view)
        self.form_key += 1
        return rx.toast.success("Protocol saved.")


def _setting(row: SettingRow) -> rx.Component:
    field_id = "protocol-" + row.name
    return rx.vstack(
        rx.el.label(row.label, " (", row.unit, ")", html_for=field_id, font_weight="500"),
        rx.input(
            id=field_id,
            name=row.name,
            default_value=row.value,
            read_only=~ProtocolState.can_edit,
            input_mode="numeric",
            max_length=4,
            width="120px",
            size="3",
            aria_describedby=field_id + "-error " + field_id + "-hint",
            aria_invalid=rx.cond(row.error != "", "true", "false"),
        ),
        field_error(row.error, field_id + "-error"),
        rx.text(row.hint, id=field_id + "-hint", size="2"),
        rx.text("Source: ", row.source, size="1", color_scheme="gray"),
        spacing="1",
        width="100%",
        padding_y="8px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _followups() -> rx.Component:
    error = ProtocolState.followups_error
    return rx.vstack(
        rx.el.label("Follow-ups after dosing", html_for="protocol-followups", font_weight="500"),
        rx.input(
            id="protocol-followups",
            name="followups",
            default_value=ProtocolState.followups,
            read_only=~ProtocolState.can_edit,
            max_length=200,
            width="100%",
            max_width="360px",
            size="3",
            aria_describedby="protocol-followups-error protocol-followups-hint",
            aria_invalid=rx.cond(error != "", "true", "false"),
        ),
        field_error(error, "protocol-followups-error"),
        rx.text(
            "Times after a session, like 2h, 24h, 72h, 7d. ",
            ProtocolState.followups_hint,
            id="protocol-followups-hint",
            size="2",
        ),
        spacing="1",
        width="100%",
    )


def _settings_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Protocol settings", size="5", as_="h2"),
                rx.cond(
                    ProtocolState.can_edit,
                    rx.text(
                        "Changes apply to every upcoming session's checklist and are audited.",
                        size="2",
                    ),
                    rx.callout(
                        "Only a clinic admin can change these settings.",
                        icon="lock",
                        color_scheme="gray",
                        high_contrast=True,
                        id="protocol-read-only",
                    ),
                ),
                rx.cond(
                    ProtocolState.updated != "",
                    rx.text("Last changed ", ProtocolState.updated, size="2", color_scheme="gray"),
                ),
                form_error(ProtocolState.form_error),
                rx.foreach(ProtocolState.rows, _setting),
                _followups(),
                rx.cond(
                    ProtocolState.can_edit,
                    rx.button("Save settings", type="submit", id="protocol-save"),
                ),
                spacing="3",
                width="100%",
                align="start",
            ),
            on_submit=ProtocolState.save,
            key=ProtocolState.form_key,
            id="protocol-form",
            no_validate=True,
            width="100%",
        ),
        width="100%",
    )


@clinician_page(PROTOCOL, "Protocol", on_load=ProtocolState.load)
def protocol_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Clinic protocol", size="7", as_="h1"),
        rx.cond(
            ProtocolState.loaded,
            rx.vstack(_settings_form(), consent_editor(), spacing="5", width="100%"),
            rx.center(rx.spinner(size="3"), padding="48px", width="100%"),
        ),
        spacing="4",
        width="100%",
    )
