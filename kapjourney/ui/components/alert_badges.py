"""An alert's tier and status as badges: the same colours on the client page and in the inbox."""

from __future__ import annotations

import reflex as rx

SEVERITY_COLORS = (("emergency", "red"), ("urgent", "orange"), ("routine", "gray"))
STATUS_COLORS = (("open", "amber"), ("acknowledged", "blue"), ("resolved", "green"))


def alert_badges(severity, status) -> rx.Component:
    return rx.fragment(
        rx.badge(
            severity,
            color_scheme=rx.match(severity, *SEVERITY_COLORS, "gray"),
            high_contrast=True,
        ),
        rx.badge(
            status,
            color_scheme=rx.match(status, *STATUS_COLORS, "gray"),
            variant="outline",
            high_contrast=True,
        ),
    )
