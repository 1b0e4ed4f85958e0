"""Informed consent, phone first: read each section, answer a few questions, sign, and after.

The page is three small states: ``ConsentState`` (where the client is, and reading),
``ConsentQuizState`` (the comprehension questions) and ``ConsentSignState`` (signing, the signed
copy and withdrawal). Every word of the document is rendered as plain text.
"""

import reflex as rx

from kapjourney.routes import CONSENT, TODAY
from kapjourney.ui.components.choices import loading
from kapjourney.ui.layout import client_page
from kapjourney.ui.pages.consent.quiz import quiz_step
from kapjourney.ui.pages.consent.reading import reading_step
from kapjourney.ui.pages.consent.signing import sign_step, signed_step
from kapjourney.ui.pages.consent.state import ConsentState


def _notices() -> rx.Component:
    return rx.fragment(
        rx.cond(
            ConsentState.doc_state == "outdated",
            rx.callout(
                "Your clinic has updated its consent document since you signed (it is now "
                "version " + ConsentState.version.to_string() + "). Please read it again and "
                "sign the new version before your next session.",
                icon="refresh-cw",
                color_scheme="amber",
                high_contrast=True,
                width="100%",
                id="consent-outdated",
            ),
        ),
        rx.cond(
            ConsentState.doc_state == "withdrawn",
            rx.callout(
                "You have withdrawn your consent, so no sessions will go ahead. If you would "
                "like to continue, you can sign again below.",
                icon="info",
                high_contrast=True,
                width="100%",
                id="consent-withdrawn",
            ),
        ),
        rx.cond(
            ConsentState.form_error != "",
            rx.callout(
                ConsentState.form_error,
                icon="triangle-alert",
                color_scheme="red",
                high_contrast=True,
                role="alert",
                width="100%",
                id="form-error",
            ),
        ),
    )


def _unavailable() -> rx.Component:
    return rx.vstack(
        rx.callout(
            "Your clinic has not published its consent document yet. It will appear here.",
            icon="info",
            high_contrast=True,
            width="100%",
        ),
        rx.link("Back to Today", href=TODAY, weight="medium"),
        spacing="3",
        width="100%",
    )


@client_page(CONSENT, "Informed consent", on_load=ConsentState.load)
def consent_page() -> rx.Component:
    return rx.cond(
        ConsentState.loaded,
        rx.vstack(
            rx.heading("Informed consent", size="7", as_="h1"),
            _notices(),
            rx.match(
                ConsentState.step,
                ("read", reading_step()),
                ("quiz", quiz_step()),
                ("sign", sign_step()),
                ("signed", signed_step()),
                _unavailable(),
            ),
            spacing="4",
            width="100%",
            id="consent",
        ),
        loading(),
    )
