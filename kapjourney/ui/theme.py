"""Global style and <head> tags. The Radix theme itself is configured in rxconfig.py."""

import reflex as rx

THEME_COLOR = "#3e63dd"  # indigo-9, the accent

STYLE = {
    "font_family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "background_color": "var(--gray-2)",
    rx.button: {"min_height": "44px"},
}

HEAD = [
    rx.el.meta(name="viewport", content="width=device-width, initial-scale=1, viewport-fit=cover"),
    rx.el.meta(name="theme-color", content=THEME_COLOR),
    rx.el.meta(name="description", content="KAP Journey: your ketamine-assisted therapy course."),
    rx.el.script(src="/js/kj.js", defer=True),  # called on taps only: never render-blocking
    # Installable app (issue 5): manifest, icons, iOS Home Screen metas, service worker.
    rx.el.link(rel="manifest", href="/manifest.webmanifest"),
    rx.el.link(rel="icon", type="image/png", sizes="32x32", href="/icons/favicon.png"),
    rx.el.link(rel="apple-touch-icon", href="/icons/apple-touch-icon.png"),
    rx.el.meta(name="apple-mobile-web-app-capable", content="yes"),
    rx.el.meta(name="mobile-web-app-capable", content="yes"),
    rx.el.meta(name="apple-mobile-web-app-status-bar-style", content="default"),
    rx.el.meta(name="apple-mobile-web-app-title", content="Journey"),
    rx.el.script(src="/js/pwa.js", defer=True),
]
