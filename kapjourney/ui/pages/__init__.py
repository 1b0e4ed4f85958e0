"""Importing this package registers every page with the layout decorator."""

from kapjourney.ui.pages import (  # noqa: F401
    client_detail,
    clients,
    consent,
    crisis,
    index,
    invite,
    plan,
    prepare,
    protocol_settings,
    screening,
    signin,
    today,
)
