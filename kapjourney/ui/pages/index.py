"""The root URL: sends each person to their home screen, or to sign-in."""

import reflex as rx

from kapjourney.routes import INDEX
from kapjourney.ui.layout import public_page
from kapjourney.ui.session_state import SessionState


@public_page(INDEX, "Welcome", on_load=SessionState.route_home)
def index_page() -> rx.Component:
    return rx.center(rx.spinner(size="3"), padding="48px")
