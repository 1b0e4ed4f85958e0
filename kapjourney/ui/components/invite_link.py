"""A one-time invite link ready to send: what it is, the link, and a copy button. Used by the
invite dialog of the clinician home and by the Team page's password reset."""

from __future__ import annotations

import reflex as rx


def invite_link_result(
    link: rx.Var, name: rx.Var, *, field_id: str = "invite-link", lead: str = "Invite ready for "
) -> rx.Component:
    return rx.vstack(
        rx.callout(
            lead + name + ". Send the link by a "
            "channel you trust: it works once and expires in 7 days.",
            icon="circle-check",
            color_scheme="green",
            width="100%",
            high_contrast=True,
        ),
        rx.el.label("Invite link", html_for=field_id, font_weight="500"),
        rx.input(value=link, read_only=True, id=field_id, width="100%"),
        rx.hstack(
            rx.button(
                rx.icon("copy", size=16),
                "Copy link",
                on_click=[rx.set_clipboard(link), rx.toast.success("Link copied")],
            ),
            rx.dialog.close(rx.button("Done", variant="soft", color_scheme="gray")),
            spacing="2",
            justify="end",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )
