"""Whether reminders reach the client: the care team's view of delivery health (issue 5).

Read-only: the state comes from ``services.reminders.delivery_health``, which authorizes the actor
for this client. "Accepted" means the push service took the reminder for the phone; it does not
mean the client read it.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.domain.schemas import DeviceView
from kapjourney.services.reminders import delivery_health
from kapjourney.ui.guard import call_service
from kapjourney.ui.pages.client_detail.common import panel

STATE_COLORS = (
    ("reaching", "green"),
    ("failing", "red"),
    ("expired", "amber"),
    ("revoked", "amber"),
    ("waiting", "blue"),
)


class RemindersPanelState(rx.State):
    health: str = ""  # reaching | failing | expired | revoked | never | off | waiting
    label: str = ""
    detail: str = ""
    last_success: str = ""
    devices: list[DeviceView] = []

    async def _refresh(self, client_id: int) -> None:
        view = await call_service(delivery_health, client_id=client_id)
        self.health, self.label, self.detail = view.state, view.label, view.detail
        self.last_success, self.devices = view.last_success, view.devices


def _device(device: DeviceView) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text(device.label, weight="medium", size="2"),
            rx.badge(
                device.status_label,
                color_scheme=rx.cond(device.healthy, "green", "gray"),
                variant="outline",
                high_contrast=True,
                white_space="normal",
            ),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.text(device.last_delivery, size="1", color_scheme="gray"),
        padding_y="6px",
        border_top=f"1px solid {rx.color('gray', 4)}",
        width="100%",
        class_name="kj-reminder-device",
    )


def reminders_panel() -> rx.Component:
    s = RemindersPanelState
    return panel(
        "Reminders",
        rx.hstack(
            rx.badge(
                s.label,
                color_scheme=rx.match(s.health, *STATE_COLORS, "gray"),
                high_contrast=True,
                size="2",
                id="reminder-health",
                data_state=s.health,
            ),
            rx.cond(
                s.last_success != "",
                rx.text("Last accepted ", s.last_success, size="2", id="reminder-last-success"),
            ),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.text(s.detail, size="2"),
        rx.cond(
            s.devices.length() > 0,
            rx.vstack(rx.foreach(s.devices, _device), spacing="0", width="100%"),
        ),
        rx.text(
            "Accepted means the push service took the reminder for their phone, not that they "
            "read it. Reminders never say anything about their treatment.",
            size="1",
            color_scheme="gray",
        ),
        panel_id="reminders-panel",
    )
