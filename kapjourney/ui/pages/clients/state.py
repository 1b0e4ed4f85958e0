"""The clinician home's state: the caseload (search, recency filter, paging) and invitations.

Every handler is a public endpoint: each is guarded, coerces what the browser sent, and asks the
dashboard service, which decides whose rows the actor may see. Only one page of rows, mapped to
``CaseloadCard`` view models, crosses the websocket.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import Actor, CaseloadRow, CaseloadView, InviteCreate
from kapjourney.services import accounts
from kapjourney.services.clients import account_states
from kapjourney.services.dashboard import caseload
from kapjourney.services.readiness import LABELS as READINESS_LABELS
from kapjourney.settings import get_settings
from kapjourney.ui.components.sparkline import sparkline_shape
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.session_state import remember

STAFF = (Role.CLINICIAN, Role.ADMIN)
PER_PAGE = 25
QUERY_MAX = 100
# value -> what the filter says (the service knows the tiers; "" is everyone)
RECENCY_CHOICES = (
    ("", "All"),
    ("2d", "Checked in within 2 days"),
    ("7d", "Checked in within 7 days"),
    ("older", "Longer ago"),
    ("never", "Never checked in"),
)
RECENCY_VALUES = frozenset(value for value, _ in RECENCY_CHOICES)
LIGHT_LABELS = {str(level): label for level, label in READINESS_LABELS.items()}


class CaseloadCard(CaseloadRow):
    """A caseload row with what the page shows already put into words and SVG paths."""

    checkins_7_text: str = ""
    checkins_30_text: str = ""
    mood_text: str = ""
    spark_line: str = ""
    spark_dots: str = ""
    spark_label: str = ""
    readiness_label: str = ""
    open_alerts: int = 0
    account: str = "active"  # active | invited | invite expired | deactivated


def checkins_text(on_time: int, late: int, days: int) -> str:
    """ "5 of 7 on time (1 late)": days counts only days the client was in the programme."""
    if days <= 0:
        return "No days yet"
    text = f"{on_time} of {days} on time"
    return f"{text} ({late} late)" if late else text


def to_card(row: CaseloadRow, account: str = "active") -> CaseloadCard:
    line, dots, label = sparkline_shape(row.mood_14d)
    return CaseloadCard(
        **row.model_dump(),
        checkins_7_text=checkins_text(row.on_time_7, row.late_7, row.days_7),
        checkins_30_text=checkins_text(row.on_time_30, row.late_30, row.days_30),
        mood_text="—" if row.last_mood is None else f"{row.last_mood} of 5",
        spark_line=line,
        spark_dots=dots,
        spark_label=label,
        readiness_label=LIGHT_LABELS.get(row.readiness, ""),
        open_alerts=row.alerts_emergency + row.alerts_urgent + row.alerts_routine,
        account=account,
    )


def _read_page(
    *, session: object, actor: Actor, **filters: object
) -> tuple[CaseloadView, dict[int, str]]:
    """One page of the caseload and, for those rows, whose invitation is still pending."""
    view = caseload(session=session, actor=actor, **filters)
    ids = [row.client_id for row in view.rows]
    return view, account_states(session=session, actor=actor, client_ids=ids)


def _page_number(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return 1
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 7 else 1


class ClientsState(rx.State):
    rows: list[CaseloadCard] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    query: str = ""
    recency: str = ""
    loaded: bool = False
    dialog_open: bool = False
    name_error: str = ""
    email_error: str = ""
    timezone_error: str = ""
    form_error: str = ""
    invite_link: str = ""
    invite_for: str = ""

    def _clear_form(self) -> None:
        self.name_error = self.email_error = self.timezone_error = self.form_error = ""

    async def _refresh(self) -> None:
        view, accounts_by_id = await call_service(
            _read_page, query=self.query, recency=self.recency, page=self.page, per_page=PER_PAGE
        )
        self.rows = [to_card(r, accounts_by_id.get(r.client_id, "active")) for r in view.rows]
        self.total, self.page, self.pages = view.total, view.page, max(view.pages, 1)
        self.loaded = True

    @rx.event
    @authorized(*STAFF)
    async def load(self):
        await remember(self)
        # State outlives navigation: coming back to the list must not reopen a finished invite.
        self.dialog_open = False
        self.invite_link = self.invite_for = ""
        self._clear_form()
        await self._refresh()

    @rx.event
    @authorized(*STAFF)
    async def search(self, value: str):
        self.query = value.strip()[:QUERY_MAX] if isinstance(value, str) else ""
        self.page = 1
        await self._refresh()

    @rx.event
    @authorized(*STAFF)
    async def filter_recency(self, value: str):
        self.recency = value if isinstance(value, str) and value in RECENCY_VALUES else ""
        self.page = 1
        await self._refresh()

    @rx.event
    @authorized(*STAFF)
    async def clear_filters(self):
        self.query = self.recency = ""
        self.page = 1
        await self._refresh()

    @rx.event
    @authorized(*STAFF)
    async def go_to_page(self, page: int):
        self.page = _page_number(page)  # the service clamps it to the pages there are
        await self._refresh()

    @rx.event
    @authorized(*STAFF)
    async def open_invite(self, open: bool = True):
        self.dialog_open = bool(open) if isinstance(open, bool) else False
        if self.dialog_open:
            self._clear_form()
            self.invite_link = self.invite_for = ""

    @rx.event
    @authorized(*STAFF)
    async def create_invite(self, form_data: dict):
        self._clear_form()
        data = form_data if isinstance(form_data, dict) else {}
        try:
            created = await call_service(
                accounts.create_invite,
                data=InviteCreate(
                    display_name=str(data.get("display_name", ""))[:10_000],
                    email=str(data.get("email", ""))[:10_000],
                    timezone=str(data.get("timezone", ""))[:10_000],
                ),
            )
        except ValidationFailed as problem:
            self.name_error = problem.fields.get("display_name", "")
            self.email_error = problem.fields.get("email", "")
            self.timezone_error = problem.fields.get("timezone", "")
            self.form_error = problem.fields.get("form", "")
            return None
        self.invite_link = get_settings().public_url.rstrip("/") + created.path
        self.invite_for = created.display_name
        await self._refresh()
        return None

    @rx.event
    @authorized(*STAFF)
    async def reissue(self, client_id: int):
        try:
            created = await call_service(accounts.reissue_invite, client_id=client_id)
        except NotFound:
            return rx.toast.error("Client not found.")
        except ValidationFailed as problem:
            return rx.toast.error(next(iter(problem.fields.values())))
        self._clear_form()
        self.invite_link = get_settings().public_url.rstrip("/") + created.path
        self.invite_for = created.display_name
        self.dialog_open = True
        await self._refresh()
        return None
