"""Reflex entry point: builds the app, mounts the HTTP routes, registers the pages."""

import os

import reflex as rx
from reflex import constants
from reflex.config import get_config
from reflex.utils.prerequisites import get_web_dir

from kapjourney.http.app import create_api
from kapjourney.http.security import secure_app
from kapjourney.http.static import StaticDelivery
from kapjourney.notifications.worker import lifespan_worker
from kapjourney.settings import get_settings
from kapjourney.ui import pages  # noqa: F401  (registers pages)
from kapjourney.ui.layout import register_pages
from kapjourney.ui.theme import HEAD, STYLE

# S11: the event socket refuses larger messages (Reflex reads this when the app is built).
os.environ["REFLEX_SOCKET_MAX_HTTP_BUFFER_SIZE"] = str(get_settings().socket_max_message_bytes)


class App(rx.App):
    """``rx.App`` whose whole ASGI app (static pages, Reflex's routes and CORS answers included)
    sits behind the security headers and the same-origin rule (kapjourney/http/security.py),
    with its built pages served without a redirect and its hashed bundles cached for good
    (kapjourney/http/static.py)."""

    def __call__(self):
        built = get_web_dir() / constants.Dirs.STATIC / get_config().frontend_path.strip("/")
        delivered = StaticDelivery(super().__call__(), build_dir=built)
        return secure_app(delivered, settings=get_settings(), build_dir=built)


app = App(
    style=STYLE,
    stylesheets=["kj.css"],  # assets/kj.css: the app's own rules, bundled with the kit's
    head_components=HEAD,
    api_transformer=create_api(),
)
register_pages(app)
app.register_lifespan_task(lifespan_worker)  # reminders: plan and send, in every worker
