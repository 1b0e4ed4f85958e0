"""The settings page's state: this person's devices, and (for a client) when the daily check-in
reminder comes and the quiet hours.

The times are a plain form: what is typed stays in the boxes until a save succeeds, and a
refused save puts its message at the field. Turning reminders on happens in the browser
(``window.kjPwa.subscribe()``: permission, then the push subscription, then the server);
``subscribed`` only hears how that went and reads the device list again from the database.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import DeviceView, ReminderSettingsView
from kapjourney.services import reminders
from kapjourney.services.validation import record_id
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.session_state import remember

TIME_FIELDS = ("checkin_time", "quiet_start", "quiet_end")
PROBLEM_KEYS = ("push", "devices", "checkin_enabled", *TIME_FIELDS, "form")
NOT_TURNED_ON = "Reminders could not be turned on. Please try again."
NOT_TURNED_OFF = "Reminders could not be turned off on this phone. Please try again."
AGAIN = "That did not go through. Please reload the page and try again."
MESSAGE_MAX = 300


def push_message(result: object, failed: str = NOT_TURNED_ON) -> str:
    """What ``kjPwa.subscribe()`` reported (sent by the browser, so re-checked): "" when it
    worked, else its message for the person, or a generic one."""
    result = result if isinstance(result, dict) else {}
    if result.get("ok") is True:
        return ""
    errors = result.get("errors")
    errors = errors if isinstance(errors, dict) else {}
    for key in ("push", "subscription", "permission", "form"):
        message = errors.get(key)
        if isinstance(message, str) and message.strip():
            return message.strip()[:MESSAGE_MAX]
    return failed


def _typed(data: object, key: str) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    return value.strip()[:16] if isinstance(value, str) else ""


class SettingsState(rx.State):
    loaded: bool = False
    failed: bool = False
    is_client: bool = False
    devices: list[DeviceView] = []
    checkin_enabled: bool = True
    checkin_time: str = "19:00"
    quiet_start: str = "22:00"
    quiet_end: str = "08:00"
    problems: dict[str, str] = dict.fromkeys(PROBLEM_KEYS, "")
    notice: str = ""  # "Reminders are on for this phone." and the like
    saved: str = ""
    form_key: int = 0  # bumped on load: the time boxes remount with what was stored

    def _take(self, view: ReminderSettingsView) -> None:
        self.is_client = view.is_client
        self.devices = view.devices
        self.checkin_enabled = view.checkin_enabled
        self.checkin_time, self.quiet_start = view.checkin_time, view.quiet_start
        self.quiet_end = view.quiet_end

    def _problem(self, key: str, message: str) -> None:
        self.problems = {**self.problems, key: message[:MESSAGE_MAX]}

    async def _reload_devices(self) -> None:
        try:
            view = await call_service(reminders.get_settings)
        except NotFound:
            self._problem("devices", AGAIN)
            return
        self.devices = view.devices

    @rx.event
    @authorized()
    async def load(self):
        await remember(self)
        self.loaded = self.failed = False
        self.problems = dict.fromkeys(PROBLEM_KEYS, "")
        self.notice = self.saved = ""
        try:
            self._take(await call_service(reminders.get_settings))
        except NotFound:
            self.failed = True
        self.form_key += 1
        self.loaded = True

    @rx.event
    @authorized()
    async def subscribed(self, result: dict):
        """The callback of "Turn on reminders": the browser's report, then the list re-read."""
        message = push_message(result)
        self._problem("push", message)
        self.notice = "" if message else "Reminders are on for this phone."
        self._problem("devices", "")
        await self._reload_devices()

    @rx.event
    @authorized()
    async def unsubscribed(self, result: dict):
        """The callback of "Turn off on this phone" (the browser dropped its subscription and
        told the server which one): the report, then the list re-read."""
        message = push_message(result, NOT_TURNED_OFF)
        self._problem("push", message)
        self.notice = "" if message else "Reminders are off for this phone."
        self._problem("devices", "")
        await self._reload_devices()

    @rx.event
    @authorized()
    async def turn_off(self, device_id: int):
        """Turn reminders off for one of this person's own devices."""
        label = next((d.label for d in self.devices if d.device_id == device_id), "that device")
        self._problem("devices", "")
        try:
            await call_service(reminders.forget_device_by_id, device_id=record_id(device_id))
        except NotFound:
            self._problem("devices", "That device was not found. The list has been refreshed.")
        else:
            self.notice = f"Reminders are off for {label}."
        await self._reload_devices()

    @rx.event
    @authorized(Role.CLIENT)
    async def save(self, form_data: dict):
        """Save the check-in reminder and quiet hours. A refused save keeps every box as typed."""
        self.saved = ""
        typed = {key: _typed(form_data, key) for key in TIME_FIELDS}
        enabled = isinstance(form_data, dict) and form_data.get("checkin_enabled") == "on"
        try:
            view = await call_service(reminders.update_settings, checkin_enabled=enabled, **typed)
        except ValidationFailed as problem:
            shown = {k: str(problem.fields.get(k, ""))[:MESSAGE_MAX] for k in PROBLEM_KEYS}
            if not any(shown.values()):
                shown["form"] = AGAIN
            self.problems = {**self.problems, **{k: shown[k] for k in PROBLEM_KEYS[2:]}}
            return
        except NotFound:
            self._problem("form", AGAIN)
            return
        self._take(view)
        self.problems = {**self.problems, **dict.fromkeys(PROBLEM_KEYS[2:], "")}
        self.saved = "Saved"
