"""Reflex entry point: builds the app, mounts the HTTP routes, registers the pages."""

import reflex as rx

from kapjourney.http.app import create_api
from kapjourney.notifications.worker import lifespan_worker
from kapjourney.ui import pages  # noqa: F401  (registers pages)
from kapjourney.ui.layout import register_pages
from kapjourney.ui.theme import HEAD, STYLE

app = rx.App(style=STYLE, head_components=HEAD, api_transformer=create_api())
register_pages(app)
app.register_lifespan_task(lifespan_worker)  # reminders: plan and send, in every worker
