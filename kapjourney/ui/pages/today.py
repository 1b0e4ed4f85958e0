"""The client's Today screen: what is next in their course, and what to do today."""

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.schemas import ReasonView, TodayView, TodoItem
from kapjourney.routes import CONSENT, PLAN, SCREENING, SETTINGS, TODAY, prepare_url
from kapjourney.services.today import get_today
from kapjourney.ui.components.install_guide import install_guide
from kapjourney.ui.components.readiness import readiness_badge, readiness_reasons
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
    reminders_on: bool = True

    @rx.event
    @authorized(Role.CLIENT)
    async def load(self):
        await remember(self)
        view = await call_service(get_today)
        self.first_name = view.first_name
        self.local_date = view.local_date
        self.stage = view.stage
        self.clinic_name = view.clinic_name
        self.reminders_on = view.reminders_on
        nxt = view.next_session
        self.has_next = nxt is not None
        self.next_title = f"Session {nxt.number} of {nxt.planned}" if nxt else ""
        self.next_when = nxt.when if nxt else ""
        self.next_how = f"{nxt.route} · {nxt.setting}" if nxt else ""
        (await self.get_state(TodayJourneyState))._take(view)
        self.loaded = True


class TodayJourneyState(rx.State):
    """What the client still has to do before the next session."""

    consent_todo: str = ""  # "" when consent is current, else what to say
    screening_todo: bool = False
    has_readiness: bool = False
    level: str = ""
    label: str = ""
    reasons: list[ReasonView] = []
    steps: str = ""
    prepare_href: str = ""
    todos: list[TodoItem] = []

    def _take(self, view: TodayView) -> None:
        self.todos = view.todos
        self.consent_todo = view.consent_todo
        self.screening_todo = view.screening_todo
        nxt = view.next_session
        self.has_readiness = nxt is not None
        self.level, self.label = (nxt.readiness.level, nxt.readiness.label) if nxt else ("", "")
        self.reasons = list(nxt.readiness.reasons[:3]) if nxt else []
        self.steps = f"{nxt.steps_done} of {nxt.steps_total} steps done" if nxt else ""
        self.prepare_href = prepare_url(nxt.dosing_session_id) if nxt else ""


def _card(icon: str, title: str, *body: rx.Component, card_id: str) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.center(
                rx.icon(icon, size=20, color=rx.color("indigo", 11)),
                background_color=rx.color("indigo", 3),
                border_radius="9999px",
                width="40px",
                height="40px",
                flex_shrink="0",
            ),
            rx.vstack(
                rx.heading(title, size="4", as_="h2"), *body, spacing="1", flex="1", min_width="0"
            ),
            spacing="3",
            align="start",
            width="100%",
        ),
        width="100%",
        id=card_id,
    )


# Icons by name: Reflex needs each icon spelled out when the page is built.
_TODO_ICONS = ("smile", "clipboard-list", "shield-check", "activity", "notebook-pen", "wind")


def _todo_icon(name) -> rx.Component:
    return rx.match(
        name,
        *[(icon, rx.icon(icon, size=20, color=rx.color("indigo", 11))) for icon in _TODO_ICONS],
        rx.icon("circle", size=20, color=rx.color("indigo", 11)),
    )


def _todo(item: TodoItem) -> rx.Component:
    return rx.link(
        rx.card(
            rx.hstack(
                rx.center(
                    _todo_icon(item.icon),
                    background_color=rx.cond(
                        item.urgent, rx.color("amber", 4), rx.color("indigo", 3)
                    ),
                    border_radius="9999px",
                    width="40px",
                    height="40px",
                    flex_shrink="0",
                ),
                rx.vstack(
                    rx.text(item.title, weight="medium", size="3", color=rx.color("gray", 12)),
                    rx.text(item.detail, size="2", color=rx.color("gray", 11)),
                    spacing="0",
                    flex="1",
                    min_width="0",
                ),
                rx.cond(
                    item.done,
                    rx.icon(
                        "circle-check", size=22, color=rx.color("grass", 11), aria_label="Done"
                    ),
                    rx.icon(
                        "chevron-right", size=22, color=rx.color("gray", 10), aria_hidden="true"
                    ),
                ),
                spacing="3",
                align="center",
                width="100%",
            ),
            width="100%",
        ),
        href=item.href,
        underline="none",
        width="100%",
        id="todo-" + item.key,
    )


def _todos() -> rx.Component:
    return rx.cond(
        TodayJourneyState.todos.length() > 0,
        rx.vstack(
            rx.heading("For today", size="4", as_="h2"),
            rx.foreach(TodayJourneyState.todos, _todo),
            spacing="2",
            width="100%",
            id="todos",
        ),
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
                rx.cond(
                    TodayJourneyState.has_readiness,
                    rx.vstack(
                        readiness_badge(TodayJourneyState.level, TodayJourneyState.label),
                        readiness_reasons(TodayJourneyState.reasons),
                        rx.text(TodayJourneyState.steps, size="2", color_scheme="gray"),
                        rx.link(
                            rx.button(
                                rx.icon("list-checks", size=18, aria_hidden="true"),
                                "Prepare",
                                size="3",
                                width="100%",
                            ),
                            href=TodayJourneyState.prepare_href,
                            width="100%",
                            id="prepare-link",
                        ),
                        spacing="2",
                        width="100%",
                        margin_top="8px",
                    ),
                ),
                spacing="0",
                width="100%",
            ),
            rx.text(
                "No session is scheduled yet. Your clinic will add it here.",
                size="2",
                color_scheme="gray",
            ),
        ),
        card_id="next-session",
    )


def _action(text: str, href: str, link_id: str) -> rx.Component:
    return rx.link(
        rx.button(
            text, rx.icon("arrow-right", size=18, aria_hidden="true"), size="3", width="100%"
        ),
        href=href,
        width="100%",
        id=link_id,
    )


def _todo_cards() -> rx.Component:
    return rx.fragment(
        rx.cond(
            TodayJourneyState.consent_todo != "",
            _card(
                "signature",
                "Informed consent",
                rx.text(
                    rx.match(
                        TodayJourneyState.consent_todo,
                        (
                            "Updated: please sign again",
                            "Your clinic updated its consent document. Please read it and sign "
                            "again.",
                        ),
                        ("Withdrawn", "You withdrew your consent. You can sign again any time."),
                        "Read about your treatment and sign your consent.",
                    ),
                    size="2",
                ),
                _action("Read and sign", CONSENT, "consent-link"),
                card_id="consent-card",
            ),
        ),
        rx.cond(
            TodayJourneyState.screening_todo,
            _card(
                "clipboard-list",
                "Health screening",
                rx.text("A few short questionnaires for your care team.", size="2"),
                _action("Continue screening", SCREENING, "screening-link"),
                card_id="screening-card",
            ),
        ),
    )


def _reminder_offer() -> rx.Component:
    """Until a phone of theirs takes reminders: one quiet link to turn them on (and, in an
    iPhone browser tab, the Home Screen guide, which iOS needs first)."""
    return rx.cond(
        TodayState.reminders_on,
        rx.fragment(),
        rx.vstack(
            install_guide(),
            rx.link(
                rx.hstack(
                    rx.icon("bell", size=18, aria_hidden="true"),
                    "Get a reminder for your daily check-in",
                    spacing="2",
                    align="center",
                ),
                href=SETTINGS,
                weight="medium",
                id="reminders-offer",
            ),
            spacing="3",
            width="100%",
        ),
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
            _todo_cards(),
            _todos(),
            _reminder_offer(),
            _next_session(),
            rx.link(
                rx.hstack(
                    rx.icon("map", size=18, aria_hidden="true"),
                    "See your whole plan",
                    spacing="2",
                    align="center",
                ),
                href=PLAN,
                weight="medium",
                id="plan-link",
            ),
            rx.text("Care team: ", TodayState.clinic_name, size="2", color_scheme="gray"),
            spacing="4",
            width="100%",
        ),
        rx.center(rx.spinner(size="3"), padding="48px"),
    )
