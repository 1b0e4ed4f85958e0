"""Signing with a typed name, the signed copy, and withdrawal behind a confirmation."""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import ConsentFlowView
from kapjourney.routes import PLAN, consent_pdf_url
from kapjourney.services import consent
from kapjourney.ui.components.dialogs import dialog, dialog_actions
from kapjourney.ui.components.fields import field
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.pages.consent.state import ConsentState

TEXT_MAX = 10_000


class ConsentSignState(rx.State):
    name_error: str = ""
    signed_name: str = ""
    signed_at: str = ""
    signed_version: int = 0
    pdf_url: str = ""
    withdraw_open: bool = False
    withdraw_error: str = ""

    def _take(self, flow: ConsentFlowView) -> None:
        self.signed_name = flow.signed_name
        self.signed_at = flow.signed_at
        self.signed_version = flow.signed_version
        self.pdf_url = consent_pdf_url(flow.signature_id) if flow.signature_id else ""
        self.name_error = ""

    @rx.event
    @authorized(Role.CLIENT)
    async def sign(self, form_data: dict):
        data = form_data if isinstance(form_data, dict) else {}
        flow = await self.get_state(ConsentState)
        self.name_error = flow.form_error = ""
        try:
            view = await call_service(
                consent.sign_consent,
                document_id=flow.document_id,
                full_name=str(data.get("full_name", ""))[:TEXT_MAX],
                user_agent=(self.router.headers.user_agent or "")[:300],
            )
        except ValidationFailed as problem:
            self.name_error = problem.fields.get("full_name", "")
            flow.form_error = problem.fields.get("form", "")
            return None
        except NotFound:
            return rx.toast.error("Not found.")
        await flow._apply(view)
        return rx.scroll_to("consent")

    @rx.event
    @authorized(Role.CLIENT)
    async def open_withdraw(self, open: bool = True):
        self.withdraw_open = open is True
        self.withdraw_error = ""

    @rx.event
    @authorized(Role.CLIENT)
    async def withdraw(self, form_data: dict):
        data = form_data if isinstance(form_data, dict) else {}
        self.withdraw_error = ""
        try:
            await call_service(
                consent.withdraw_consent, reason=str(data.get("reason", ""))[:TEXT_MAX]
            )
        except ValidationFailed as problem:
            self.withdraw_error = next(iter(problem.fields.values()), "")
            return None
        except NotFound:
            return rx.toast.error("Not found.")
        self.withdraw_open = False
        return [ConsentState.load, rx.toast.info("Your consent is withdrawn.")]


def sign_step() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Sign your consent", size="5", as_="h2"),
                rx.text(
                    "By typing your name and tapping Sign, you confirm that you have read this "
                    "document, had the chance to ask questions, and agree to ketamine-assisted "
                    "psychotherapy with your clinic. You can withdraw at any time.",
                    size="3",
                ),
                rx.text(
                    ConsentState.title,
                    " · version ",
                    ConsentState.version.to_string(),
                    size="2",
                    weight="medium",
                ),
                rx.text(
                    "Document fingerprint (SHA-256): ",
                    rx.code(ConsentState.sha_short, "…"),
                    size="2",
                    color_scheme="gray",
                    id="consent-fingerprint",
                ),
                field(
                    "Type your full name to sign",
                    name="full_name",
                    form="consent-sign",
                    error=ConsentSignState.name_error,
                    max_length=200,
                    auto_complete="name",
                ),
                rx.button("Sign", type="submit", size="3", width="100%", id="consent-sign"),
                spacing="3",
                width="100%",
            ),
            on_submit=ConsentSignState.sign,
            no_validate=True,
            id="consent-sign-form",
        ),
        size="2",
        width="100%",
    )


def _withdraw_dialog() -> rx.Component:
    return dialog(
        "Withdraw your consent?",
        rx.form(
            rx.vstack(
                rx.el.label("Reason (optional)", html_for="withdraw-reason", font_weight="500"),
                rx.text_area(id="withdraw-reason", name="reason", max_length=2000, width="100%"),
                rx.text(ConsentSignState.withdraw_error, size="2", color_scheme="red"),
                dialog_actions(
                    "Withdraw",
                    confirm_id="withdraw-confirm",
                    cancel="Keep my consent",
                    wrap=True,
                    type="submit",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=ConsentSignState.withdraw,
            no_validate=True,
        ),
        open=ConsentSignState.withdraw_open,
        on_open_change=ConsentSignState.open_withdraw,
        description="No further dosing sessions will go ahead until you sign again. Your other "
        "care continues, and your care team will be told.",
        trigger=rx.button(
            "Withdraw consent",
            variant="soft",
            color_scheme="red",
            high_contrast=True,
            size="3",
            width="100%",
        ),
        max_width="440px",
    )


def signed_step() -> rx.Component:
    return rx.vstack(
        rx.callout.root(
            rx.callout.icon(rx.icon("circle-check")),
            rx.callout.text(
                "You signed version ",
                ConsentSignState.signed_version.to_string(),
                " as ",
                rx.text.strong(ConsentSignState.signed_name),
                ".",
            ),
            rx.callout.text("Date signed: ", ConsentSignState.signed_at, size="2"),
            color_scheme="green",
            high_contrast=True,
            width="100%",
            id="consent-signed",
        ),
        rx.el.a(
            rx.hstack(
                rx.icon("file-down", size=18, aria_hidden="true"),
                "Download your signed consent (PDF)",
                spacing="2",
                align="center",
            ),
            href=ConsentSignState.pdf_url,
            download="",
            id="consent-pdf",
            style={
                "color": "var(--accent-11)",
                "font_weight": "500",
                "text_decoration": "underline",
                "min_height": "44px",
                "display": "flex",
                "align_items": "center",
            },
        ),
        rx.link("See your plan", href=PLAN, weight="medium"),
        rx.divider(),
        rx.heading("Changed your mind?", size="4", as_="h2"),
        rx.text("You may withdraw your consent at any time, even right before a dose.", size="2"),
        _withdraw_dialog(),
        spacing="3",
        width="100%",
    )
