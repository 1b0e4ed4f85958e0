"""The clinician home: the caseload dashboard (who needs attention first), with invitations.

A clinician sees her assigned clients, an admin the whole clinic, sorted by the service with the
client who needs attention first. Search (debounced), a recency filter and paging ask the service
again; a table on a desk-sized screen, cards on a phone or tablet.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.routes import CLINICIAN_HOME, EXPORT_CLINIC_CSV
from kapjourney.ui.components.fields import SELECT_STYLE
from kapjourney.ui.layout import clinician_page
from kapjourney.ui.pages.clients.caseload import (
    CLIENT_URL_PREFIX,
    caseload_cards,
    caseload_table,
)
from kapjourney.ui.pages.clients.invite import invite_dialog
from kapjourney.ui.pages.clients.state import RECENCY_CHOICES, ClientsState
from kapjourney.ui.session_state import SessionState

__all__ = ["CLIENT_URL_PREFIX", "ClientsState", "clients_page"]


def _search() -> rx.Component:
    return rx.vstack(
        rx.el.label("Search by name", html_for="caseload-search", font_weight="500"),
        rx.input(
            value=ClientsState.query,
            on_change=ClientsState.search,
            debounce_timeout=350,
            id="caseload-search",
            type="search",
            max_length=100,
            auto_complete="off",
            size="3",
            width="100%",
        ),
        spacing="1",
        flex="2 1 220px",
    )


def _recency_filter() -> rx.Component:
    return rx.vstack(
        rx.el.label("Last check-in", html_for="caseload-recency", font_weight="500"),
        rx.el.select(
            *[rx.el.option(label, value=value) for value, label in RECENCY_CHOICES],
            value=ClientsState.recency,
            on_change=ClientsState.filter_recency,
            id="caseload-recency",
            style=SELECT_STYLE,
        ),
        spacing="1",
        flex="1 1 200px",
    )


def _pager() -> rx.Component:
    page, pages = ClientsState.page, ClientsState.pages
    return rx.hstack(
        rx.button(
            rx.icon("chevron-left", size=16, aria_hidden="true"),
            "Previous",
            variant="soft",
            disabled=page <= 1,
            on_click=ClientsState.go_to_page(page - 1),
            id="caseload-previous",
        ),
        rx.text(
            "Page ",
            page.to_string(),
            " of ",
            pages.to_string(),
            size="2",
            id="caseload-page",
            aria_live="polite",
        ),
        rx.button(
            "Next",
            rx.icon("chevron-right", size=16, aria_hidden="true"),
            variant="soft",
            disabled=page >= pages,
            on_click=ClientsState.go_to_page(page + 1),
            id="caseload-next",
        ),
        spacing="3",
        align="center",
        justify="center",
        width="100%",
        display=rx.cond(pages > 1, "flex", "none"),
    )


def _count() -> rx.Component:
    total = ClientsState.total
    filtered = (ClientsState.query != "") | (ClientsState.recency != "")
    return rx.text(
        rx.cond(total == 1, "1 client", total.to_string() + " clients"),
        rx.cond(filtered, rx.cond(total == 1, " matches", " match"), ""),
        ". Those who need attention come first.",
        size="2",
        color_scheme="gray",
        id="caseload-count",
        aria_live="polite",
    )


def _empty() -> rx.Component:
    filtered = (ClientsState.query != "") | (ClientsState.recency != "")
    return rx.cond(
        filtered,
        rx.callout(
            rx.hstack(
                rx.text("No clients match the search and filter."),
                rx.button(
                    "Clear search and filter",
                    size="1",
                    variant="soft",
                    on_click=ClientsState.clear_filters,
                ),
                spacing="3",
                align="center",
                wrap="wrap",
            ),
            icon="search",
            high_contrast=True,
            id="caseload-empty",
        ),
        rx.callout(
            "No clients yet. Invite your first client to begin.",
            icon="info",
            high_contrast=True,
            id="caseload-empty",
        ),
    )


@clinician_page(CLINICIAN_HOME, "Clients", on_load=ClientsState.load)
def clients_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(
                rx.cond(SessionState.role == "admin", "All clients", "Your clients"),
                size="7",
                as_="h1",
            ),
            rx.spacer(),
            rx.el.a(  # issue 6: the clinic export (the route authorizes and audits)
                rx.icon("sheet", size=16, aria_hidden="true"),
                "Download clinic CSV",
                href=EXPORT_CLINIC_CSV,
                download="",
                id="export-clinic-csv",
                style={"display": "inline-flex", "align_items": "center", "gap": "4px"},
            ),
            invite_dialog(),
            width="100%",
            align="center",
            wrap="wrap",
            spacing="3",
        ),
        rx.el.div(
            rx.hstack(_search(), _recency_filter(), spacing="3", wrap="wrap", width="100%"),
            role="search",
            aria_label="Find clients",
            width="100%",
        ),
        rx.cond(
            ClientsState.loaded,
            rx.vstack(
                _count(),
                rx.cond(
                    ClientsState.rows.length() > 0,
                    rx.fragment(caseload_table(), caseload_cards(), _pager()),
                    _empty(),
                ),
                spacing="3",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="48px", width="100%"),
        ),
        spacing="4",
        width="100%",
    )
