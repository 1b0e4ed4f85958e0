"""The clinician's client list, with invitations."""

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import ClientRow, InviteCreate
from kapjourney.routes import CLIENT_DETAIL, CLINICIAN_HOME, EXPORT_CLINIC_CSV
from kapjourney.services import accounts
from kapjourney.services.clients import list_clients
from kapjourney.settings import get_settings
from kapjourney.ui.components.fields import SELECT_STYLE, field, form_error
from kapjourney.ui.components.readiness import readiness_badge
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.layout import clinician_page
from kapjourney.ui.session_state import SessionState, remember

STAFF = (Role.CLINICIAN, Role.ADMIN)
CLIENT_URL_PREFIX = CLIENT_DETAIL.removesuffix("[client_id]")  # + the id: routes.client_url
TIMEZONES = [
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Toronto",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
]


class ClientsState(rx.State):
    rows: list[ClientRow] = []
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
        self.rows = await call_service(list_clients)
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


def _invite_result() -> rx.Component:
    return rx.vstack(
        rx.callout(
            "Invite ready for " + ClientsState.invite_for + ". Send the link by a "
            "channel you trust: it works once and expires in 7 days.",
            icon="circle-check",
            color_scheme="green",
            width="100%",
            high_contrast=True,
        ),
        rx.el.label("Invite link", html_for="invite-link", font_weight="500"),
        rx.input(value=ClientsState.invite_link, read_only=True, id="invite-link", width="100%"),
        rx.hstack(
            rx.button(
                rx.icon("copy", size=16),
                "Copy link",
                on_click=[
                    rx.set_clipboard(ClientsState.invite_link),
                    rx.toast.success("Link copied"),
                ],
            ),
            rx.dialog.close(rx.button("Done", variant="soft", color_scheme="gray")),
            spacing="2",
            justify="end",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _invite_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            form_error(ClientsState.form_error),
            field(
                "Full name",
                name="display_name",
                form="invite-client",
                error=ClientsState.name_error,
                max_length=80,
                auto_complete="off",
            ),
            field(
                "Email",
                name="email",
                form="invite-client",
                type="email",
                error=ClientsState.email_error,
                max_length=254,
                auto_complete="off",
            ),
            rx.vstack(
                rx.el.label("Time zone", html_for="invite-client-timezone", font_weight="500"),
                rx.el.select(
                    *[rx.el.option(tz.replace("_", " "), value=tz) for tz in TIMEZONES],
                    id="invite-client-timezone",
                    name="timezone",
                    default_value="America/Los_Angeles",
                    style=SELECT_STYLE,
                ),
                rx.text(
                    ClientsState.timezone_error,
                    size="2",
                    color_scheme="red",
                    display=rx.cond(ClientsState.timezone_error != "", "block", "none"),
                ),
                spacing="1",
                width="100%",
            ),
            rx.hstack(
                rx.dialog.close(
                    rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                ),
                rx.button("Create invite", type="submit", id="invite-create"),
                spacing="2",
                justify="end",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=ClientsState.create_invite,
        id="invite-client-form",
        no_validate=True,
    )


def _invite_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(rx.icon("user-plus", size=16), "Invite a client", id="invite-open")
        ),
        rx.dialog.content(
            rx.dialog.title("Invite a client"),
            rx.dialog.description(
                "They will set their own password from the link.", size="2", margin_bottom="12px"
            ),
            rx.cond(ClientsState.invite_link != "", _invite_result(), _invite_form()),
            max_width="480px",
        ),
        open=ClientsState.dialog_open,
        on_open_change=ClientsState.open_invite,
    )


ACCOUNT_COLORS = {
    "active": "green",
    "invited": "blue",
    "invite expired": "amber",
    "deactivated": "gray",
}


def _row(row: ClientRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.link(
                    row.display_name,
                    href=CLIENT_URL_PREFIX + row.client_id.to_string(),
                    weight="medium",
                ),
                rx.text(row.email, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(row.stage),
        rx.table.cell(row.sessions_done.to_string() + " of " + row.sessions_planned.to_string()),
        rx.table.cell(rx.cond(row.next_session != "", row.next_session, "—")),
        rx.table.cell(
            rx.cond(
                row.readiness != "",
                readiness_badge(row.readiness, row.readiness_label),
                rx.text("—", color_scheme="gray"),
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.badge(
                    row.account,
                    high_contrast=True,
                    color_scheme=rx.match(row.account, *ACCOUNT_COLORS.items(), "gray"),
                ),
                rx.cond(
                    (row.account == "invited") | (row.account == "invite expired"),
                    rx.button(
                        "New link",
                        size="1",
                        variant="soft",
                        on_click=ClientsState.reissue(row.client_id),
                        aria_label="New link for " + row.display_name,
                    ),
                ),
                spacing="2",
                align="center",
            )
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
            _invite_dialog(),
            width="100%",
            align="center",
            wrap="wrap",
            spacing="3",
        ),
        rx.cond(
            ClientsState.loaded,
            rx.cond(
                ClientsState.rows.length() > 0,
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *[
                                    rx.table.column_header_cell(h)
                                    for h in (
                                        "Client",
                                        "Stage",
                                        "Sessions",
                                        "Next session",
                                        "Readiness",
                                        "Account",
                                    )
                                ]
                            )
                        ),
                        rx.table.body(rx.foreach(ClientsState.rows, _row)),
                        width="100%",
                        variant="surface",
                        id="client-table",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                rx.callout(
                    "No clients yet. Invite your first client to begin.",
                    icon="info",
                    high_contrast=True,
                ),
            ),
            rx.center(rx.spinner(size="3"), padding="48px", width="100%"),
        ),
        spacing="5",
        width="100%",
    )
