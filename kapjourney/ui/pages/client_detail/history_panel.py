"""The client's history: one timeline of everything recorded, newest first, filterable by kind.

The state holds one page at a time plus the pages already shown ("Show earlier" appends the
next); the service authorizes and audits every read.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.errors import NotFound
from kapjourney.domain.history import KINDS, HistoryEntry, KindCount
from kapjourney.services.history import client_history
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.pages.client_detail.common import NOT_FOUND, STAFF, panel

TONE_COLORS = (("alert", "red"), ("attention", "amber"))
TONE_WORDS = (("alert", "Alert"), ("attention", "Worth a look"))
KIND_ICONS = (
    ("checkin", "smile"),
    ("questionnaire", "clipboard-list"),
    ("symptom_report", "activity"),
    ("consent", "signature"),
    ("checklist", "list-checks"),
    ("session", "calendar"),
    ("exercise", "notebook-pen"),
    ("alert", "bell"),
)
MAX_SHOWN = 2_000  # entries kept on screen; "Show earlier" stops offering more past this


class HistoryPanelState(rx.State):
    entries: list[HistoryEntry] = []
    counts: list[KindCount] = []
    kind: str = ""  # "" for every kind
    everything: int = 0  # entries of every kind, for the "All" chip
    has_more: bool = False
    _client_id: int = 0
    _page: int = 0

    async def _refresh(self, client_id: int) -> None:
        self._client_id, self._page, self.kind = client_id, 0, ""
        await self._read()

    async def _read(self, append: bool = False) -> None:
        view = await call_service(
            client_history,
            client_id=self._client_id,
            kinds=[self.kind] if self.kind else None,
            page=self._page,
        )
        if append:  # a record written since the last page may shift one across: show it once
            seen = {e.key for e in self.entries}
            self.entries = [*self.entries, *(e for e in view.entries if e.key not in seen)]
        else:
            self.entries = view.entries
        self.counts = view.counts
        self.everything = sum(c.count for c in view.counts)
        self.has_more = view.has_more and len(self.entries) < MAX_SHOWN

    async def _load(self, append: bool = False):
        try:
            await self._read(append)
        except NotFound:
            self.reset()
            return rx.toast.error(NOT_FOUND)
        return None

    @rx.event
    @authorized(*STAFF)
    async def filter(self, kind: str):
        if not self._client_id:
            return None
        self.kind = kind if isinstance(kind, str) and kind in KINDS else ""
        self._page = 0
        return await self._load()

    @rx.event
    @authorized(*STAFF)
    async def more(self):
        if not self._client_id or not self.has_more:
            return None
        self._page += 1
        return await self._load(append=True)


def _chip(label: rx.Var | str, count: rx.Var | int, kind: rx.Var | str) -> rx.Component:
    pressed = HistoryPanelState.kind == kind
    return rx.button(
        label,
        rx.text.span(count, weight="bold"),
        on_click=HistoryPanelState.filter(kind),
        aria_pressed=pressed,
        variant=rx.cond(pressed, "solid", "soft"),
        color_scheme=rx.cond(pressed, "indigo", "gray"),
        high_contrast=True,
        size="2",
        radius="full",
        type="button",
        class_name="kj-history-chip",
        data_kind=kind,
    )


def _chips() -> rx.Component:
    return rx.flex(
        _chip("All", HistoryPanelState.everything, ""),
        rx.foreach(
            HistoryPanelState.counts,
            lambda c: rx.cond(
                (c.count > 0) | (HistoryPanelState.kind == c.kind),
                _chip(c.label, c.count, c.kind),
            ),
        ),
        role="group",
        aria_label="Show only one kind of record",
        gap="2",
        wrap="wrap",
        width="100%",
    )


def _toned(entry: HistoryEntry, step: int, neutral: int) -> rx.Var:
    """A tone's colour at a Radix scale ``step`` (gray at ``neutral`` for a neutral entry)."""
    return rx.match(
        entry.tone,
        ("alert", rx.color("red", step)),
        ("attention", rx.color("amber", step)),
        rx.color("gray", neutral),
    )


def _marker(entry: HistoryEntry) -> rx.Component:
    return rx.box(
        # Each icon spelled out: an icon named by a state var makes Reflex bundle every icon.
        rx.match(
            entry.kind,
            *[(kind, rx.icon(name, size=16, aria_hidden="true")) for kind, name in KIND_ICONS],
            rx.icon("circle", size=16, aria_hidden="true"),
        ),
        class_name="kj-history-marker",
        data_tone=entry.tone,
        display="flex",
        align_items="center",
        justify_content="center",
        width="30px",
        height="30px",
        flex_shrink="0",
        border_radius="50%",
        border="2px solid",
        border_color=_toned(entry, 9, 7),
        background=_toned(entry, 3, 2),
        color=_toned(entry, 11, 11),
    )


def _entry(entry: HistoryEntry) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            _marker(entry),
            rx.box(flex_grow="1", width="2px", background=rx.color("gray", 5)),
            spacing="1",
            align="center",
            flex_shrink="0",
        ),
        rx.vstack(
            rx.el.time(
                entry.local_time,
                date_time=entry.at,
                font_size="13px",
                color=rx.color("gray", 11),
            ),
            rx.hstack(
                rx.text(entry.title, weight="medium", size="2", class_name="kj-history-title"),
                rx.cond(
                    entry.tone != "neutral",
                    rx.badge(
                        rx.match(entry.tone, *TONE_WORDS, ""),
                        color_scheme=rx.match(entry.tone, *TONE_COLORS, "gray"),
                        variant="soft",
                        high_contrast=True,
                    ),
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.foreach(
                entry.detail,
                lambda line: rx.text(line, size="2", white_space="pre-wrap", color_scheme="gray"),
            ),
            spacing="1",
            min_width="0",
            flex="1",
            padding_bottom="14px",
            overflow_wrap="anywhere",
        ),
        class_name="kj-history-entry",
        data_kind=entry.kind,
        data_tone=entry.tone,
        display="flex",
        gap="12px",
        align_items="stretch",
    )


def _timeline() -> rx.Component:
    return rx.vstack(
        rx.el.ol(
            rx.foreach(HistoryPanelState.entries, _entry),
            id="history-list",
            list_style="none",
            margin="0",
            padding="0",
            width="100%",
        ),
        rx.cond(
            HistoryPanelState.has_more,
            rx.button(
                rx.icon("chevrons-down", size=16, aria_hidden="true"),
                "Show earlier",
                on_click=HistoryPanelState.more,
                variant="soft",
                type="button",
                id="history-more",
            ),
            rx.text("That is the beginning of the record.", size="1", color_scheme="gray"),
        ),
        spacing="2",
        width="100%",
        align="center",
        max_height="min(70vh, 720px)",
        overflow_y="auto",
        padding_right="4px",
        # A scrolling list must be reachable by keyboard (axe: scrollable-region-focusable).
        tab_index=0,
        role="region",
        aria_label="History, newest first",
        id="history-region",
    )


def history_panel() -> rx.Component:
    return panel(
        "History",
        rx.text(
            "Everything recorded, newest first, in the client's time zone.",
            size="2",
            color_scheme="gray",
        ),
        _chips(),
        rx.cond(
            HistoryPanelState.entries.length() > 0,
            _timeline(),
            rx.text("Nothing recorded yet.", size="2", color_scheme="gray", id="history-empty"),
        ),
        panel_id="history-panel",
    )
