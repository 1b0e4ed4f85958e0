"""Importing this package registers every page with the layout decorator."""

from kapjourney.ui.pages import (  # noqa: F401
    checkin,
    client_detail,
    clients,
    consent,
    crisis,
    index,
    invite,
    journal,
    plan,
    prepare,
    progress,
    protocol_settings,
    questionnaires,
    safety_plan,
    safety_rules,
    screening,
    signin,
    support,
    symptoms,
    today,
)
