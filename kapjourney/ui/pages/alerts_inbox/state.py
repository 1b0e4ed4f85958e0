"""The alert inbox's state: load, live refresh while the page is open, and the three actions.

Live refresh is a background task started when the inbox mounts. Every few seconds it resolves
the session cookie again (a signed-out or demoted user stops it and is shown nothing) and reads
the inbox through the same service. It stops when the page unmounts, when the tab's socket is
gone, when the session ends, or after ``WATCH_LIMIT`` (the page then offers a refresh).
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import Actor, InboxRow, InboxView
from kapjourney.services import inbox
from kapjourney.services.uow import unit_of_work
from kapjourney.services.validation import record_id
from kapjourney.ui.guard import actor_from_state, authorized, call_service
from kapjourney.ui.pages.client_detail.common import clip, form_dict
from kapjourney.ui.session_state import remember

STAFF = (Role.CLINICIAN, Role.ADMIN)
POLL_SECONDS = 5.0
WATCH_LIMIT = 12 * 3600  # a long shift; then the page asks for a refresh
NOT_FOUND = "Alert not found."
NO_ERRORS = {"note": "", "outcome": "", "clinician": ""}


@dataclass
class Option:
    value: str = ""
    label: str = ""


def _connected(token: str) -> bool:
    """Whether this tab's socket is still attached to this server process."""
    module = sys.modules.get(rx.config.get_config().module)
    namespace = getattr(getattr(module, "app", None), "event_namespace", None)
    return namespace is None or token in namespace.token_to_sid


def _read(actor: Actor) -> InboxView:
    with unit_of_work() as session:
        return inbox.list_inbox(session=session, actor=actor, record=False)


class InboxState(rx.State):
    rows: list[InboxRow] = []
    clinicians: list[Option] = []
    loaded: bool = False
    live: bool = False
    dialog: str = ""  # "" | "resolve" | "reassign"
    dialog_reason: str = ""
    errors: dict[str, str] = dict(NO_ERRORS)
    _alert_id: int = 0
    _watch: int = 0

    def _take(self, view: InboxView) -> None:
        if view.rows != self.rows:
            self.rows = view.rows
        clinicians = [Option(str(uid), name) for uid, name in view.clinicians]
        if clinicians != self.clinicians:
            self.clinicians = clinicians

    async def _refresh(self) -> None:
        self._take(await call_service(inbox.list_inbox, record=False))

    @rx.event
    @authorized(*STAFF)
    async def load(self):
        await remember(self)
        self.dialog = ""
        self._take(await call_service(inbox.list_inbox))
        self.loaded = True

    @rx.event(background=True)
    @authorized(*STAFF)
    async def watch(self):
        async with self:
            self._watch += 1
            mine = self._watch
            self.live = True
        token = self.router.session.client_token
        started = time.monotonic()
        signed_out = False
        while time.monotonic() - started < WATCH_LIMIT:
            await asyncio.sleep(POLL_SECONDS)
            if not _connected(token):
                break
            actor = await actor_from_state(self)  # authorize every refresh
            if actor is None or actor.role not in STAFF:
                signed_out = True
                break
            view = await asyncio.to_thread(_read, actor)
            async with self:
                if self._watch != mine:
                    return
                self._take(view)
        async with self:
            if self._watch == mine:
                self.live = False
                if signed_out:
                    self.reset()

    @rx.event
    @authorized(*STAFF)
    async def stop_watching(self):
        self._watch += 1
        self.live = False

    @rx.event
    @authorized(*STAFF)
    async def acknowledge(self, alert_id: int):
        try:
            await call_service(inbox.acknowledge, alert_id=record_id(alert_id))
        except NotFound:
            await self._refresh()
            return rx.toast.error(NOT_FOUND)
        await self._refresh()
        return rx.toast.success("Alert acknowledged.")

    @rx.event
    @authorized(*STAFF)
    async def open_dialog(self, kind: str, alert_id: int):
        row = next((r for r in self.rows if r.alert_id == record_id(alert_id)), None)
        if row is None or kind not in ("resolve", "reassign"):
            return
        self._alert_id = row.alert_id
        self.dialog_reason = f"{row.client_name}: {row.reason}"
        self.errors = NO_ERRORS
        self.dialog = kind

    @rx.event
    @authorized(*STAFF)
    async def close_dialog(self, open: bool = False):
        if open is not True:
            self.dialog = ""

    async def _act(self, work, done: str, **kwargs):
        self.errors = NO_ERRORS
        try:
            await call_service(work, alert_id=self._alert_id, **kwargs)
        except NotFound:
            self.dialog = ""
            await self._refresh()
            return rx.toast.error(NOT_FOUND)
        except ValidationFailed as problem:
            self.errors = {k: str(problem.fields.get(k, ""))[:300] for k in NO_ERRORS}
            return None
        self.dialog = ""
        await self._refresh()
        return rx.toast.success(done)

    @rx.event
    @authorized(*STAFF)
    async def resolve(self, form_data: dict):
        data = form_dict(form_data)
        return await self._act(
            inbox.resolve,
            "Alert resolved.",
            note=clip(data.get("note", ""), 2_000),
            outcome=clip(data.get("outcome", ""), 40),
        )

    @rx.event
    @authorized(*STAFF)
    async def reassign(self, form_data: dict):
        data = form_dict(form_data)
        return await self._act(
            inbox.reassign,
            "Alert reassigned.",
            clinician_id=record_id(data.get("clinician", "")),
        )
