"""The client's Today screen: what is next in their course, and what to do today."""

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.routes import TODAY
from kapjourney.services.today import get_today
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.layout import client_page
from kapjourney.ui.session_state import remember


class TodayState(rx.State):
    loaded: bool = False
    first_name: str = ""
    local_date: str = ""
    stage: str = ""
    clinic_name: str = ""
    has_next: bool = False
    next_title: str = ""
    next_when: str = ""
    next_how: str = ""

    @rx.event
    @authorized(Role.CLIENT)
    async def load(self):
        await remember(self)
        view = await call_service(get_today)
        self.first_name = view.first_name
        self.local_date = view.local_date
        self.stage = view.stage
        self.clinic_name = view.clinic_name
        nxt = view.next_session
        self.has_next = nxt is not None
        self.next_title = f"Session {nxt.number} of {nxt.planned}" if nxt else ""
        self.next_when = nxt.when if nxt else ""
        self.next_how = f"{nxt.route} · {nxt.setting}" if nxt else ""
        self.loaded = True


def _card(icon: str, title: str, *body: rx.Component, card_id: str) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.center(
                rx.icon(icon, size=20, color=rx.color("indigo", 11)),
                background_color=rx.color("indigo", 3),
                border_radius="full",
                width="40px",
                height="40px",
                flex_shrink="0",
            ),
            rx.vstack(rx.heading(title, size="4", as_="h2"), *body, spacing="1", flex="1"),
            spacing="3",
            align="start",
            width="100%",
        ),
        width="100%",
        id=card_id,
    )


def _soon(text: str) -> rx.Component:
    return rx.vstack(
        rx.text(text, size="2", color_scheme="gray"),
        rx.badge(
            "Coming in the next update", color_scheme="gray", variant="soft", high_contrast=True
        ),
        spacing="2",
        align="start",
    )


def _next_session() -> rx.Component:
    return _card(
        "calendar-days",
        "Next dosing session",
        rx.cond(
            TodayState.has_next,
            rx.vstack(
                rx.text(TodayState.next_title, weight="medium", size="3"),
                rx.text(TodayState.next_when, size="3"),
                rx.text(TodayState.next_how, size="2", color_scheme="gray"),
                spacing="0",
            ),
            rx.text(
                "No session is scheduled yet. Your clinic will add it here.",
                size="2",
                color_scheme="gray",
            ),
        ),
        card_id="next-session",
    )


@client_page(TODAY, "Today", on_load=TodayState.load)
def today_page() -> rx.Component:
    return rx.cond(
        TodayState.loaded,
        rx.vstack(
            rx.vstack(
                rx.text(TodayState.local_date, size="2", color_scheme="gray"),
                rx.heading("Hello, ", TodayState.first_name, size="7", as_="h1", id="greeting"),
                rx.badge(TodayState.stage, size="2", variant="soft", high_contrast=True),
                spacing="1",
                align="start",
            ),
            _card(
                "smile",
                "Daily check-in",
                _soon("Mood, anxiety and sleep in three taps, once a day."),
                card_id="checkin-card",
            ),
            _next_session(),
            _card(
                "list-checks",
                "Preparation checklist",
                _soon("Fasting, a ride home and the other steps before each session."),
                card_id="checklist-card",
            ),
            _card(
                "notebook-pen",
                "Integration exercises",
                _soon("Reflections and practices between sessions."),
                card_id="exercises-card",
            ),
            rx.text("Care team: ", TodayState.clinic_name, size="2", color_scheme="gray"),
            spacing="4",
            width="100%",
        ),
        rx.center(rx.spinner(size="3"), padding="48px"),
    )
