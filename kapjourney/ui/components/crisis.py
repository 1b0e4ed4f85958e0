"""Crisis resources shown in place, at once, when an answer suggests someone may be at risk.

Kind words and ways to reach a person now; never a score or a label. The full list lives on the
public /crisis page, one tap away.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.routes import CRISIS


def _action(text: str, href: rx.Var | str, icon: str, label: rx.Var | str) -> rx.Component:
    return rx.link(
        rx.button(
            rx.icon(icon, size=18, aria_hidden="true"),
            text,
            size="3",
            color_scheme="red",
            high_contrast=True,
            width="100%",
        ),
        href=href,
        aria_label=label,
        width="100%",
    )


def crisis_callout(clinic_phone: rx.Var, **props) -> rx.Component:
    """A prominent, calm panel: 988 by call or text, the clinic's phone, and the crisis page."""
    return rx.box(
        rx.vstack(
            rx.hstack(
                rx.icon("heart-handshake", size=24, color=rx.color("red", 11), aria_hidden="true"),
                rx.heading("You don't have to face this alone", size="4", as_="h2"),
                spacing="2",
                align="center",
            ),
            rx.text(
                "Thank you for telling us. Your care team will see this and reach out. If you "
                "are thinking about hurting yourself, or feel unsafe right now, please talk to "
                "someone now: these lines answer day and night.",
                size="3",
            ),
            _action("Call 988", "tel:988", "phone", "Call 988, the Suicide and Crisis Lifeline"),
            _action("Text 988", "sms:988", "message-circle", "Text 988, the Lifeline"),
            rx.cond(
                clinic_phone != "",
                _action(
                    "Call your clinic",
                    "tel:" + clinic_phone,
                    "building-2",
                    "Call your clinic on " + clinic_phone,
                ),
            ),
            rx.text("In immediate danger, call 911.", size="2", weight="medium"),
            rx.link("More ways to get help now", href=CRISIS, weight="medium"),
            spacing="3",
            width="100%",
        ),
        role="alert",
        id="crisis-callout",
        padding="16px",
        border_radius="12px",
        border=f"2px solid {rx.color('red', 8)}",
        background_color=rx.color("red", 2),
        width="100%",
        **props,
    )
