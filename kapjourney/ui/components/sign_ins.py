"""One signed-in device in a list: what it is, and a "Sign out" button for any device but the one
in hand. Used by Settings' signed-in devices (a person's own) and the Team page (a colleague's).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from kapjourney.domain.team_views import SessionRow


def sign_in_item(
    row: SessionRow,
    *facts: rx.Component,
    on_sign_out: Any,
    sign_out_label: rx.Var,
    class_name: str,
    danger: bool = False,
) -> rx.Component:
    """``facts`` stack at the left; ``sign_out_label`` names the device for a screen reader;
    ``danger`` makes the button red (signing out someone else)."""
    color = {"color_scheme": "red", "high_contrast": True} if danger else {"color_scheme": "gray"}
    return rx.el.li(
        rx.hstack(
            rx.vstack(*facts, spacing="1", flex="1", min_width="0"),
            rx.cond(
                ~row.this_device,
                rx.button(
                    "Sign out",
                    size="2",
                    variant="soft",
                    on_click=on_sign_out,
                    aria_label=sign_out_label,
                    **color,
                ),
            ),
            spacing="3",
            align="start",
            width="100%",
        ),
        padding_y="10px",
        border_top=f"1px solid {rx.color('gray', 4)}",
        list_style="none",
        class_name=class_name,
        data_this=rx.cond(row.this_device, "true", "false"),
    )
