"""Dialogs: a title, an optional description, the body, and a row of buttons at the foot (a grey
"Back" that closes it, then the confirming button). Used by the Team page, Settings' signed-in
devices, the client page's dialogs, the consent editor and the client's consent withdrawal.

``alert=True`` (the default) gives an alert dialog (role ``alertdialog``, for a confirmation
that cannot be undone); ``alert=False`` a plain one (role ``dialog``). The buttons must say the
same kind as the dialog they sit in, since the closing button is that kind's.
"""

from __future__ import annotations

from typing import Any

import reflex as rx


def dialog(
    title: rx.Var | str,
    *children: rx.Component,
    open: rx.Var,
    on_open_change: Any,
    description: rx.Var | str | None = None,
    trigger: rx.Component | None = None,
    alert: bool = True,
    max_width: str = "480px",
) -> rx.Component:
    """A controlled dialog, open while ``open`` holds; ``trigger`` (optional) opens it too."""
    kind = rx.alert_dialog if alert else rx.dialog
    head = [kind.title(title)]
    if description is not None:
        head.append(kind.description(description, size="2", margin_bottom="12px"))
    return kind.root(
        *([kind.trigger(trigger)] if trigger is not None else []),
        kind.content(*head, *children, max_width=max_width),
        open=open,
        on_open_change=on_open_change,
    )


def dialog_actions(
    confirm: str = "",
    *,
    confirm_id: str = "",
    cancel: str = "Back",
    alert: bool = True,
    margin_top: str = "0",
    color: str = "red",
    high_contrast: bool = True,
    closes: bool = False,
    wrap: bool = False,
    **confirm_props: Any,
) -> rx.Component:
    """The foot row: ``cancel`` closes the dialog; ``confirm`` (if given) is a button in ``color``
    (red, high contrast unless told) with id ``confirm_id`` and ``confirm_props`` (``on_click``,
    or ``type="submit"`` in a form). ``closes``: the confirming button closes the dialog too, at
    once; ``wrap``: the buttons wrap onto two lines when the row is too narrow."""
    close = rx.alert_dialog.cancel if alert else rx.dialog.close
    buttons = [close(rx.button(cancel, variant="soft", color_scheme="gray", type="button"))]
    if confirm:
        button = rx.button(
            confirm,
            color_scheme=color,
            high_contrast=high_contrast,
            id=confirm_id,
            **confirm_props,
        )
        action = rx.alert_dialog.action if alert else rx.dialog.close
        buttons.append(action(button) if closes else button)
    return rx.hstack(
        *buttons,
        spacing="2",
        justify="end",
        width="100%",
        margin_top=margin_top,
        **({"wrap": "wrap"} if wrap else {}),
    )
