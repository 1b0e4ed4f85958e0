"""How the front end is bundled: a Reflex plugin (listed in rxconfig.py) that groups the
UI-kit and icon modules into two shared bundles.

Left to itself the bundler gives every Radix Themes component and every icon a file of its
own: the check-in page asked for some forty small scripts, each a request whose headers (the
content security policy among them) outweigh its code. On a phone's network the requests,
not the bytes, set how soon the page shows. Grouped, every page loads one UI-kit bundle and
one icon bundle, cached across pages. Charts (recharts) stay with the pages that draw them.

It imports nothing of the app, so rxconfig.py can load it before the app exists.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

VITE_CONFIG = "vite.config.js"
ANCHOR = "groups: ["
# Radix Themes and the primitives and helpers it is built on.
UI_KIT = (
    "@radix-ui",
    "@floating-ui",
    "radix-ui",
    "react-remove-scroll",
    "react-remove-scroll-bar",
    "react-style-singleton",
    "use-callback-ref",
    "use-sidecar",
    "aria-hidden",
    "get-nonce",
    "classnames",
)
ICONS = ("lucide-react",)


def _group(name: str, packages: tuple[str, ...]) -> str:
    # Module ids are absolute paths; [\\/] matches either separator.
    pattern = "|".join(packages)
    return f"""
            {{
              name: "{name}",
              test: /node_modules[\\\\/]({pattern})[\\\\/]/,
            }},"""


GROUPS = _group("ui-kit", UI_KIT) + _group("icons", ICONS)


def group_bundles(vite_config: str) -> str:
    """Reflex's generated vite config with our chunk groups ahead of its own."""
    if vite_config.count(ANCHOR) != 1:
        raise RuntimeError(
            f"{VITE_CONFIG} no longer has one '{ANCHOR}' (Reflex changed its template): "
            "update kapjourney/ui/bundling.py"
        )
    return vite_config.replace(ANCHOR, ANCHOR + GROUPS)


class BundlingPlugin(rx.plugins.Plugin):
    def pre_compile(self, **context: Any) -> None:
        context["add_modify_task"](VITE_CONFIG, group_bundles)
