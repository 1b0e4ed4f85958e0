"""Consent: the current state, every signature (name shown as text only) and withdrawal."""

from __future__ import annotations

import reflex as rx
from pydantic import BaseModel

from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import ConsentStatusView
from kapjourney.routes import consent_pdf_url
from kapjourney.services.consent import consent_status, withdraw_consent
from kapjourney.ui.components.dialogs import dialog, dialog_actions
from kapjourney.ui.components.fields import field_error, form_error
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.pages.client_detail.common import (
    NOT_FOUND,
    STAFF,
    blank,
    clip,
    form_dict,
    messages,
    panel,
)
from kapjourney.ui.pages.client_detail.plan_panel import PlanState

FIELDS = ("reason", "form")
STATES = (
    ("current", "Signed: current version"),
    ("outdated", "Signed an earlier version: re-consent needed"),
    ("withdrawn", "Withdrawn"),
    ("none", "Not signed yet"),
)
STATE_COLORS = (("current", "green"), ("outdated", "amber"), ("withdrawn", "red"))


class SignatureRow(BaseModel):
    signature_id: int
    version: int
    short_sha: str
    sha256: str
    signed_name: str
    signed_at: str
    withdrawn_at: str
    pdf_url: str


class ConsentPanelState(rx.State):
    state: str = ""
    current_version: int = 0
    signatures: list[SignatureRow] = []
    withdrawing: bool = False
    errors: dict[str, str] = blank(FIELDS)
    _client_id: int = 0

    def _apply(self, view: ConsentStatusView) -> None:
        self.state = view.state
        self.current_version = view.current_version
        self.signatures = [
            SignatureRow(
                **s.model_dump(), short_sha=s.sha256[:12], pdf_url=consent_pdf_url(s.signature_id)
            )
            for s in view.signatures
        ]

    async def _refresh(self, client_id: int) -> None:
        self._apply(await call_service(consent_status, client_id=client_id))
        self._client_id = client_id

    @rx.event
    @authorized(*STAFF)
    async def open_withdraw(self, open: bool = True):
        self.withdrawing = open is True and self.state in ("current", "outdated")
        self.errors = blank(FIELDS)

    @rx.event
    @authorized(*STAFF)
    async def withdraw(self, form_data: dict):
        self.errors = blank(FIELDS)
        reason = clip(form_dict(form_data).get("reason", ""), 2_000)
        try:
            view = await call_service(withdraw_consent, client_id=self._client_id, reason=reason)
        except NotFound:
            self.withdrawing = False
            return rx.toast.error(NOT_FOUND)
        except ValidationFailed as problem:
            self.errors = messages(problem, FIELDS)
            return None
        self._apply(view)
        self.withdrawing = False
        plan = await self.get_state(PlanState)
        await plan._refresh(plan._client_id)
        return rx.toast.success("Withdrawal recorded.")


def _signature(row: SignatureRow) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.badge("v", row.version.to_string(), variant="outline", high_contrast=True),
            # The signed name is whatever the client typed: shown as text, never as markup.
            rx.text(row.signed_name, weight="medium", size="2", class_name="kj-signed-name"),
            rx.text(row.signed_at, size="2", color_scheme="gray"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.hstack(
            rx.text("SHA-256 ", rx.code(row.short_sha, title=row.sha256), size="2"),
            rx.cond(
                row.withdrawn_at != "",
                rx.text("Withdrawn ", row.withdrawn_at, size="2", color_scheme="red"),
                rx.text("Valid", size="2"),
            ),
            rx.el.a(
                rx.icon("file-down", size=16, aria_hidden="true"),
                "PDF",
                href=row.pdf_url,
                download="",
                aria_label="PDF of the signed consent, version " + row.version.to_string(),
                class_name="kj-pdf-link",
                style={
                    "display": "inline-flex",
                    "align_items": "center",
                    "gap": "4px",
                    "color": "var(--accent-11)",
                    "font_size": "14px",
                },
            ),
            spacing="3",
            align="center",
            wrap="wrap",
            margin_top="4px",
        ),
        padding_y="8px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _withdraw_dialog() -> rx.Component:
    errors = ConsentPanelState.errors
    return dialog(
        "Record a withdrawal of consent",
        rx.form(
            rx.vstack(
                form_error(errors["form"]),
                rx.el.label("Reason (optional)", html_for="withdraw-reason", font_weight="500"),
                rx.text_area(
                    id="withdraw-reason",
                    name="reason",
                    rows="3",
                    max_length=2000,
                    width="100%",
                    aria_describedby="withdraw-reason-error",
                ),
                field_error(errors["reason"], "withdraw-reason-error"),
                dialog_actions(
                    "Record withdrawal", confirm_id="withdraw-confirm", alert=False, type="submit"
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=ConsentPanelState.withdraw,
            no_validate=True,
        ),
        open=ConsentPanelState.withdrawing,
        on_open_change=ConsentPanelState.open_withdraw,
        description="For a withdrawal the client told you about. No further session can be dosed "
        "until they consent again.",
        trigger=rx.button(
            "Record withdrawal",
            variant="soft",
            color_scheme="red",
            disabled=(ConsentPanelState.state != "current")
            & (ConsentPanelState.state != "outdated"),
            id="withdraw-open",
        ),
        alert=False,
    )


def consent_panel() -> rx.Component:
    return panel(
        "Consent",
        rx.hstack(
            rx.badge(
                rx.match(ConsentPanelState.state, *STATES, "Unknown"),
                color_scheme=rx.match(ConsentPanelState.state, *STATE_COLORS, "gray"),
                high_contrast=True,
                size="2",
                id="consent-state",
            ),
            rx.text(
                "Current document: version ",
                ConsentPanelState.current_version.to_string(),
                size="2",
                color_scheme="gray",
            ),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            ConsentPanelState.signatures.length() > 0,
            rx.el.ul(
                rx.foreach(ConsentPanelState.signatures, _signature),
                list_style_type="none",
                padding="0",
                margin="0",
                id="signatures",
            ),
            rx.text("No signatures yet.", size="2", color_scheme="gray"),
        ),
        rx.box(_withdraw_dialog()),
        panel_id="consent-panel",
    )
