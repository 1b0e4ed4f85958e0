"""Reflex configuration. Imports only settings, the bundling plugin and the worker-respawn
default, none of which imports the app (see STYLE.md)."""

import reflex as rx

from kapjourney.serving import respawn_failed_workers
from kapjourney.settings import get_settings
from kapjourney.ui.bundling import BundlingPlugin

_settings = get_settings()
respawn_failed_workers()  # a backend worker that dies is replaced (kapjourney/serving.py)

config = rx.Config(
    app_name="kapjourney",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # One theme for the whole app: calm indigo on warm neutrals (white on indigo-9 meets WCAG AA).
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(
                appearance="light", accent_color="indigo", gray_color="sand", radius="large"
            )
        ),
        BundlingPlugin(),  # shared UI-kit and icon bundles (kapjourney/ui/bundling.py)
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
    # The app has no components evaluated in the browser at run time, so the UI kit is not
    # exposed whole on window.__reflex: pages import only the components they draw, and the
    # build's stylesheet keeps only theirs (kapjourney/ui/bundling.py).
    frontend_lazy_bundled_libraries=True,
    # Pre-compressed bundles: brotli for browsers that take it (about a fifth smaller than gzip).
    frontend_compression_formats=["brotli", "gzip"],
    # Reflex's CORS and its socket server answer only the app's own origins (default "*").
    cors_allowed_origins=list(_settings.allowed_origins),
)
