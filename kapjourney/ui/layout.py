"""Page registration: one decorator gives a page its route, title, role, shell and on_load."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from kapjourney.routes import (
    ALERTS,
    CHECKIN,
    CLINICIAN_HOME,
    CRISIS,
    INDEX,
    JOURNAL,
    PROGRESS,
    PROTOCOL,
    SAFETY_PLAN,
    SAFETY_RULES,
    SETTINGS,
    TEAM,
    TODAY,
)
from kapjourney.ui.session_state import SessionState

SIGN_OUT = rx.call_script("window.kj.signOut()")


@dataclass(frozen=True)
class PageSpec:
    route: str
    title: str
    role: str  # "client", "staff", "member" (any signed-in role) or "public": which shell
    build: Callable[[], rx.Component]
    on_load: Any = None


PAGES: list[PageSpec] = []


def crisis_button() -> rx.Component:
    return rx.link(
        rx.button(
            rx.icon("life-buoy", size=18),
            "Get help now",
            color_scheme="red",
            variant="solid",
            high_contrast=True,
            size="2",
            white_space="nowrap",
        ),
        href=CRISIS,
        aria_label="Get help now: crisis resources",
        id="crisis-button",
    )


def _menu() -> rx.Component:
    """The account menu: a plain button that shows its panel (assets/js/kj.js opens it, and
    closes it on a tap elsewhere, on Escape, once an item is chosen or when focus moves past
    it). The kit's dropdown menu
    brought its positioning and focus machinery, over 100 kB of script, into every page."""
    return rx.el.div(
        rx.el.button(
            rx.icon("circle-user", size=18, aria_hidden="true"),
            type="button",
            aria_label="Account menu",
            aria_expanded="false",
            aria_controls="account-panel",
            class_name="kj-account-button",
            custom_attrs={"data-kj-menu": ""},
        ),
        rx.el.div(
            rx.el.p(SessionState.display_name, class_name="kj-account-name"),
            rx.link(
                rx.icon("settings", size=16, aria_hidden="true"),
                "Settings",
                href=SETTINGS,
                id="nav-settings",
                underline="none",
            ),
            rx.el.button(
                rx.icon("log-out", size=16, aria_hidden="true"),
                "Sign out",
                type="button",
                on_click=SIGN_OUT,
                id="sign-out",
            ),
            id="account-panel",
            hidden=True,
            class_name="kj-account-panel",
        ),
        class_name="kj-account",
    )


def brand(href: str) -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon("sunrise", size=22, color=rx.color("indigo", 10)),
            rx.text(
                "KAP Journey",
                weight="bold",
                size="4",
                color=rx.color("gray", 12),
                white_space="nowrap",
            ),
            spacing="2",
            align="center",
        ),
        href=href,
        underline="none",
        aria_label="KAP Journey home",
    )


# The client's tabs: what they do most, and their safety plan one tap from every page.
CLIENT_TABS = (
    (TODAY, "Today", "house"),
    (CHECKIN, "Check in", "smile-plus"),
    (PROGRESS, "Progress", "chart-line"),
    (JOURNAL, "Journal", "notebook-pen"),
    (SAFETY_PLAN, "Safety plan", "shield-check"),
)


def _tab(href: str, label: str, icon: str, active: bool) -> rx.Component:
    color = rx.color("indigo", 11) if active else rx.color("gray", 11)
    return rx.link(
        rx.vstack(
            rx.icon(icon, size=22, color=color, aria_hidden="true"),
            rx.text(label, size="1", weight="bold" if active else "regular", color=color),
            spacing="1",
            align="center",
        ),
        href=href,
        underline="none",
        flex="1",
        padding_y="8px",
        min_height="56px",
        display="flex",
        justify_content="center",
        aria_current="page" if active else None,
        id=f"tab-{href.strip('/')}",
    )


def client_tabs(route: str) -> rx.Component:
    return rx.el.nav(
        rx.hstack(
            *[
                _tab(href, label, icon, route == href or route.startswith(href + "/"))
                for href, label, icon in CLIENT_TABS
            ],
            spacing="0",
            width="100%",
            max_width="560px",
            margin_x="auto",
        ),
        aria_label="Main",
        position="fixed",
        bottom="0",
        left="0",
        right="0",
        z_index="10",
        background_color=rx.color("gray", 1),
        border_top=f"1px solid {rx.color('gray', 5)}",
        padding_bottom="env(safe-area-inset-bottom)",
    )


def client_header() -> rx.Component:
    return rx.el.header(
        rx.hstack(
            brand(TODAY),
            rx.spacer(),
            crisis_button(),
            _menu(),
            align="center",
            spacing="2",
            width="100%",
            max_width="560px",
            margin_x="auto",
            padding_x="16px",
            padding_y="10px",
        ),
        background_color=rx.color("gray", 1),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        position="sticky",
        top="0",
        z_index="10",
    )


def client_shell(content: rx.Component, route: str = "") -> rx.Component:
    return rx.box(
        client_header(),
        rx.el.main(
            content, max_width="560px", margin_x="auto", padding="16px", padding_bottom="104px"
        ),
        client_tabs(route),
        min_height="100vh",
    )


def staff_header() -> rx.Component:
    return rx.el.header(
        rx.hstack(
            brand(CLINICIAN_HOME),
            rx.link(
                "Clients",
                href=CLINICIAN_HOME,
                weight="medium",
                margin_left=rx.breakpoints(initial="0", sm="16px"),
            ),
            rx.link("Alerts", href=ALERTS, weight="medium", id="nav-alerts"),
            # Admins edit the protocol and consent document there; clinicians read them.
            rx.link("Protocol", href=PROTOCOL, weight="medium", id="nav-protocol"),
            rx.link("Safety rules", href=SAFETY_RULES, weight="medium", id="nav-safety-rules"),
            # Admins manage the team: staff, client accounts and sign-ins.
            rx.cond(
                SessionState.role == "admin",
                rx.link("Team", href=TEAM, weight="medium", id="nav-team"),
            ),
            rx.spacer(),
            _menu(),
            align="center",
            spacing="3",
            wrap="wrap",  # a phone-sized window: the links wrap rather than scroll sideways
            width="100%",
            max_width="1100px",
            margin_x="auto",
            padding_x="16px",
            padding_y="10px",
        ),
        background_color=rx.color("gray", 1),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
    )


def staff_shell(content: rx.Component, route: str = "") -> rx.Component:
    return rx.box(
        staff_header(),
        rx.el.main(content, max_width="1100px", margin_x="auto", padding="16px"),
        min_height="100vh",
    )


def member_shell(content: rx.Component, route: str = "") -> rx.Component:
    """A page for every signed-in role: a client gets her header and tabs, the care team theirs.
    Until the page's on_load has said who is signed in, only the brand shows."""
    role = SessionState.role
    return rx.box(
        rx.match(
            role,
            ("client", client_header()),
            ("", rx.el.header(rx.box(brand(INDEX), padding="10px 16px"))),
            staff_header(),
        ),
        rx.el.main(
            content,
            max_width="560px",
            margin_x="auto",
            padding="16px",
            padding_bottom=rx.cond(role == "client", "104px", "16px"),
        ),
        rx.cond(role == "client", client_tabs(route)),
        min_height="100vh",
    )


def public_shell(content: rx.Component, route: str = "") -> rx.Component:
    return rx.box(
        rx.el.main(content, max_width="440px", margin_x="auto", padding="16px", padding_top="48px"),
        min_height="100vh",
    )


SHELLS = {
    "client": client_shell,
    "staff": staff_shell,
    "member": member_shell,
    "public": public_shell,
}


def _page(route: str, title: str, role: str, on_load: Any = None):
    def register(fn: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        shell = SHELLS[role]

        def build() -> rx.Component:
            return shell(fn(), route)

        # Reflex writes a page's compiled components to a JavaScript module named after the
        # page function's Python module. Named after this module, every page's components
        # (charts included) would land in one bundle that every page downloads.
        build.__module__ = fn.__module__
        PAGES.append(PageSpec(route=route, title=title, role=role, build=build, on_load=on_load))
        return fn

    return register


def client_page(route: str, title: str, on_load: Any = None):
    return _page(route, title, "client", on_load)


def clinician_page(route: str, title: str, on_load: Any = None):
    return _page(route, title, "staff", on_load)


def member_page(route: str, title: str, on_load: Any = None):
    """Any signed-in role (its handlers still name the roles they serve)."""
    return _page(route, title, "member", on_load)


def public_page(route: str, title: str, on_load: Any = None):
    return _page(route, title, "public", on_load)


def register_pages(app: rx.App) -> None:
    for spec in PAGES:
        app.add_page(
            spec.build, route=spec.route, title=f"{spec.title} · KAP Journey", on_load=spec.on_load
        )
