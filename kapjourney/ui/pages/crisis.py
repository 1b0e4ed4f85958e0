"""Crisis resources: public, static, one tap from every client page, and from sign-in."""

import reflex as rx

from kapjourney.routes import CRISIS, INDEX
from kapjourney.ui.layout import public_page


def _line(title: str, detail: str, action: str, href: str, icon: str, scheme: str):
    return rx.card(
        rx.hstack(
            rx.icon(icon, size=26, color=rx.color(scheme, 10), aria_hidden="true"),
            rx.vstack(
                rx.text(title, weight="bold", size="4"),
                rx.text(detail, size="2", color_scheme="gray"),
                spacing="1",
                flex="1",
            ),
            align="center",
            spacing="3",
            width="100%",
        ),
        rx.link(
            rx.button(
                action,
                size="3",
                color_scheme=scheme,
                high_contrast=scheme == "red",
                width="100%",
                margin_top="12px",
            ),
            href=href,
            width="100%",
            aria_label=f"{action}: {title}",
        ),
        width="100%",
    )


@public_page(CRISIS, "Get help now")
def crisis_page() -> rx.Component:
    return rx.vstack(
        rx.heading("You are not alone", size="7", as_="h1"),
        rx.text(
            "If you feel unsafe, or a session's effects worry you, reach out now. "
            "These lines answer day and night.",
            size="3",
        ),
        _line(
            "Emergency: 911",
            "If you or someone else is in immediate danger.",
            "Call 911",
            "tel:911",
            "siren",
            "red",
        ),
        _line(
            "988 Suicide & Crisis Lifeline",
            "Call or text 988 (US). Free and confidential.",
            "Call 988",
            "tel:988",
            "phone",
            "red",
        ),
        _line(
            "Text 988",
            "Prefer to type? Text the Lifeline.",
            "Text 988",
            "sms:988",
            "message-circle",
            "indigo",
        ),
        _line(
            "Crisis Text Line",
            "Text HOME to 741741 (US).",
            "Text HOME to 741741",
            "sms:741741?&body=HOME",
            "message-square",
            "indigo",
        ),
        rx.text("Outside the US, call your local emergency number.", size="2", color_scheme="gray"),
        rx.link("Back to KAP Journey", href=INDEX, weight="medium"),
        spacing="4",
        width="100%",
    )
