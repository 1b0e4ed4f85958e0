"""The clinic's consent document: admins publish a new version; everyone then re-consents."""

from __future__ import annotations

import textwrap

import reflex as rx

from kapjourney.domain import consent_text
from kapjourney.domain.consent_text import MAX_DOCUMENT_CHARS, parse
from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import ConsentSourceView
from kapjourney.services.consent import get_document_source, publish_document
from kapjourney.ui.components.dialogs import dialog, dialog_actions
from kapjourney.ui.components.fields import field_error
from kapjourney.ui.guard import authorized, call_service, current_actor

STAFF = (Role.CLINICIAN, Role.ADMIN)
# The format, as the parser's own docstring states it (shown as plain text).
FORMAT_HELP = textwrap.dedent(
    (consent_text.__doc__ or "").split("::", 1)[-1].split("\n\n")[1]
).strip()


class ConsentEditorState(rx.State):
    version: int = 0
    short_sha: str = ""
    published: str = ""
    text: str = ""
    text_error: str = ""
    confirming: bool = False
    can_edit: bool = False
    editor_key: int = 0
    _pending: str = ""

    def _apply(self, view: ConsentSourceView) -> None:
        self.version, self.text, self.published = view.version, view.text, view.published
        self.short_sha = view.sha256[:12]

    async def _refresh(self) -> None:
        self.can_edit = current_actor().role == Role.ADMIN
        self._apply(await call_service(get_document_source))

    @rx.event
    @authorized(*STAFF)
    async def review(self, form_data: dict):
        """Check the format first; only a well-formed text reaches the confirm step."""
        data = form_data if isinstance(form_data, dict) else {}
        raw = data.get("text", "")
        text = raw[: MAX_DOCUMENT_CHARS + 1] if isinstance(raw, str) else ""
        problems = parse(text).problems
        self.text_error = " ".join(problems[:4])[:1000]
        self._pending = "" if problems else text
        self.confirming = not problems and self.can_edit

    @rx.event
    @authorized(*STAFF)
    async def close_confirm(self, open: bool = False):
        if open is not True:
            self.confirming = False

    @rx.event
    @authorized(Role.ADMIN)
    async def publish(self):
        self.confirming = False
        try:
            view = await call_service(publish_document, text=self._pending)
        except NotFound:
            return rx.toast.error("Only a clinic admin can publish the consent document.")
        except ValidationFailed as problem:
            self.text_error = str(problem.fields.get("text", "Check the document."))[:1000]
            return None
        self._apply(view)
        self._pending = ""
        self.editor_key += 1
        return rx.toast.success(f"Version {view.version} published.")


def _confirm_dialog() -> rx.Component:
    return dialog(
        "Publish a new consent version?",
        dialog_actions(
            "Publish and ask for re-consent",
            confirm_id="publish-confirm",
            color="indigo",
            high_contrast=False,
            closes=True,
            margin_top="16px",
            on_click=ConsentEditorState.publish,
        ),
        open=ConsentEditorState.confirming,
        on_open_change=ConsentEditorState.close_confirm,
        description="Every client must read and sign the new version before their next session. "
        "Until they do, their sessions show as not ready.",
    )


def _editor() -> rx.Component:
    error = ConsentEditorState.text_error
    return rx.form(
        rx.vstack(
            rx.el.label("Document text", html_for="consent-text", font_weight="500"),
            rx.text_area(
                id="consent-text",
                name="text",
                default_value=ConsentEditorState.text,
                read_only=~ConsentEditorState.can_edit,
                rows="24",
                max_length=MAX_DOCUMENT_CHARS,
                width="100%",
                font_family="var(--code-font-family)",
                font_size="13px",
                aria_describedby="consent-text-error",
                aria_invalid=rx.cond(error != "", "true", "false"),
            ),
            field_error(error, "consent-text-error"),
            rx.cond(
                ConsentEditorState.can_edit,
                rx.button(rx.icon("send", size=16), "Publish new version", type="submit"),
            ),
            spacing="2",
            width="100%",
            align="start",
        ),
        on_submit=ConsentEditorState.review,
        key=ConsentEditorState.editor_key,
        id="consent-editor-form",
        width="100%",
    )


def _help() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Format", size="3", as_="h3"),
            rx.el.pre(
                FORMAT_HELP,
                font_size="13px",
                white_space="pre-wrap",
                margin="0",
                id="consent-format-help",
            ),
            rx.text(
                "Questions belong to the section they follow. Nothing is rendered as HTML or "
                "markdown: clients see exactly this text.",
                size="2",
                color_scheme="gray",
            ),
            spacing="2",
        ),
        width="100%",
        align_self="start",
    )


def consent_editor() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Consent document", size="5", as_="h2"),
            rx.hstack(
                rx.badge(
                    "Version ", ConsentEditorState.version.to_string(), size="2", high_contrast=True
                ),
                rx.text("SHA-256 ", rx.code(ConsentEditorState.short_sha), size="2"),
                rx.text("Published ", ConsentEditorState.published, size="2", color_scheme="gray"),
                spacing="3",
                align="center",
                wrap="wrap",
                id="consent-version",
            ),
            rx.grid(
                _editor(),
                _help(),
                columns=rx.breakpoints(initial="1", md="3fr 2fr"),
                spacing="4",
                width="100%",
            ),
            _confirm_dialog(),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="consent-editor",
    )
