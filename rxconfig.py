"""Reflex configuration. Imports only settings (see STYLE.md)."""

import reflex as rx

from kapjourney.settings import get_settings

_settings = get_settings()

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
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
    frontend_compression_formats=["gzip"],
    # Reflex's CORS and its socket server answer only the app's own origins (default "*").
    cors_allowed_origins=list(_settings.allowed_origins),
)
