"""The calm screen after a worrying report: the care team knows, help is one tap away, and the
client's own safety plan is right here. It never names a score or a symptom."""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.schemas import SupportView
from kapjourney.routes import CRISIS, SAFETY_PLAN, SUPPORT, TODAY
from kapjourney.services.safety_rules import get_support
from kapjourney.ui.components.choices import loading
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.layout import client_page
from kapjourney.ui.pages.symptoms.state import tel
from kapjourney.ui.session_state import remember


class SupportState(rx.State):
    loaded: bool = False
    tier: str = ""
    clinic_name: str = ""
    emergency_number: str = ""
    emergency_href: str = ""
    line_name: str = ""
    line_number: str = ""
    line_href: str = ""
    line_sms: str = ""
    clinic_phone: str = ""
    clinic_href: str = ""
    has_plan: bool = False
    warning_signs: str = ""
    coping: str = ""
    follow_up_href: str = ""

    def _take(self, view: SupportView) -> None:
        self.tier, self.clinic_name = view.tier, view.clinic_name
        self.emergency_number, self.emergency_href = (
            view.emergency_number,
            tel(view.emergency_number),
        )
        self.line_name, self.line_number = view.crisis_line_name, view.crisis_line_number
        self.line_href = tel(view.crisis_line_number)
        # Texting works for the US 988 line; other lines are offered as calls.
        self.line_sms = "sms:988" if self.line_href == "tel:988" else ""
        self.clinic_phone, self.clinic_href = view.clinic_phone, tel(view.clinic_phone)
        self.has_plan = view.has_safety_plan
        self.warning_signs, self.coping = view.warning_signs, view.coping
        self.follow_up_href = view.follow_up_href

    @rx.event
    @authorized(Role.CLIENT)
    async def load(self):
        await remember(self)
        self._take(await call_service(get_support))
        self.loaded = True


def _call(text, href, icon: str, label, *, primary: bool = False, elem_id: str = ""):
    return rx.link(
        rx.button(
            rx.icon(icon, size=22 if primary else 18, aria_hidden="true"),
            text,
            size="4" if primary else "3",
            color_scheme="red" if primary else "indigo",
            variant="solid" if primary else "soft",
            high_contrast=primary,
            width="100%",
            min_height="56px" if primary else "48px",
        ),
        href=href,
        aria_label=label,
        width="100%",
        id=elem_id,
    )


def _emergency() -> rx.Component:
    return rx.vstack(
        rx.text(
            "What you told us needs care now. Please call for help, and if you can, ask "
            "someone to stay with you.",
            size="4",
            weight="medium",
        ),
        _call(
            "Call " + SupportState.emergency_number,
            SupportState.emergency_href,
            "phone-call",
            "Call " + SupportState.emergency_number + ", the emergency number",
            primary=True,
            elem_id="call-emergency",
        ),
        rx.text("Your care team has been told too.", size="3"),
        spacing="3",
        width="100%",
    )


def _urgent() -> rx.Component:
    return rx.callout(
        "Your care team has been told and will contact you.",
        icon="heart-handshake",
        color_scheme="indigo",
        high_contrast=True,
        size="2",
        width="100%",
        id="care-team-told",
    )


def _lines() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Talk to someone now", size="4", as_="h2"),
            rx.text(
                "If things feel worse before your care team reaches you, these lines answer "
                "day and night.",
                size="2",
            ),
            rx.cond(
                SupportState.line_href != "",
                _call(
                    "Call " + SupportState.line_number,
                    SupportState.line_href,
                    "phone",
                    "Call " + SupportState.line_number + ", " + SupportState.line_name,
                    elem_id="call-crisis-line",
                ),
            ),
            rx.cond(
                SupportState.line_href != "",
                rx.text(SupportState.line_name, size="2", color_scheme="gray"),
            ),
            rx.cond(
                SupportState.line_sms != "",
                _call(
                    "Text 988",
                    SupportState.line_sms,
                    "message-circle",
                    "Text 988, the Lifeline",
                    elem_id="text-crisis-line",
                ),
            ),
            rx.cond(
                SupportState.clinic_href != "",
                _call(
                    "Call your clinic",
                    SupportState.clinic_href,
                    "building-2",
                    "Call your clinic on " + SupportState.clinic_phone,
                    elem_id="call-clinic",
                ),
            ),
            rx.cond(
                SupportState.tier != "emergency",
                rx.text(
                    "In immediate danger, call ",
                    rx.link(
                        SupportState.emergency_number,
                        href=SupportState.emergency_href,
                        weight="bold",
                        id="emergency-link",
                    ),
                    ".",
                    size="2",
                ),
            ),
            rx.link("More ways to get help", href=CRISIS, size="2"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="crisis-lines",
    )


def _plan() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Your safety plan", size="4", as_="h2"),
            rx.cond(
                SupportState.has_plan,
                rx.vstack(
                    rx.cond(
                        SupportState.warning_signs != "",
                        rx.vstack(
                            rx.text("My warning signs", size="2", weight="bold"),
                            rx.text(SupportState.warning_signs, size="3", white_space="pre-wrap"),
                            spacing="1",
                        ),
                    ),
                    rx.cond(
                        SupportState.coping != "",
                        rx.vstack(
                            rx.text("Things I can do on my own", size="2", weight="bold"),
                            rx.text(SupportState.coping, size="3", white_space="pre-wrap"),
                            spacing="1",
                        ),
                    ),
                    spacing="3",
                    width="100%",
                ),
                rx.text(
                    "You and your clinician can write a plan together: what helps, and who "
                    "to reach out to. It is good to have it ready.",
                    size="2",
                ),
            ),
            rx.link("Open your safety plan", href=SAFETY_PLAN, weight="medium", id="plan-link"),
            spacing="3",
            width="100%",
            word_break="break-word",
        ),
        width="100%",
        id="safety-plan-card",
    )


def _follow_up() -> rx.Component:
    return rx.cond(
        SupportState.follow_up_href != "",
        rx.card(
            rx.vstack(
                rx.text(
                    "When you are ready, a few short questions help your care team understand "
                    "how you are.",
                    size="3",
                ),
                rx.link(
                    rx.button("Continue", size="3", width="100%"),
                    href=SupportState.follow_up_href,
                    width="100%",
                    id="follow-up",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
    )


@client_page(SUPPORT, "Support", on_load=SupportState.load)
def support_page() -> rx.Component:
    return rx.cond(
        SupportState.loaded,
        rx.vstack(
            rx.heading(
                rx.cond(
                    SupportState.tier != "",
                    "Thank you for telling us",
                    "Help is here when you need it",
                ),
                size="7",
                as_="h1",
            ),
            rx.cond(SupportState.tier == "emergency", _emergency()),
            rx.cond(SupportState.tier == "urgent", _urgent()),
            _lines(),
            _follow_up(),
            _plan(),
            rx.link("Back to Today", href=TODAY, weight="medium"),
            spacing="4",
            width="100%",
            id="support",
        ),
        loading(),
    )
