"""Security headers and the same-origin rule, on every response of the app (issue 7).

``secure_app`` wraps Reflex's *whole* ASGI app (see ``kapjourney.py``), outside Reflex's own CORS
layers, so one place covers the static frontend (pages, ``/assets/...``, ``/sw.js``, the manifest,
404 pages), Reflex's backend routes (``/_event``, ``/ping``, ``/_health``, ``/_upload``), our
FastAPI routes and even CORS preflight answers. ``create_api`` also installs ``SecurityHeaders``
on its own, so the HTTP routes keep their headers when served without Reflex (tests); inside the
full app that inner copy stands aside.

The content security policy (measured in Chromium on every page, tests/browser/test_csp.py):

* ``script-src 'self'`` plus the SHA-256 of each inline script in the built pages (React Router's
  context and hydration scripts, the theme script), computed at startup from the HTML files, and
  ``'unsafe-eval'``: Reflex runs ``rx.call_script`` code and every server-sent client action
  (``rx.toast``, ``rx.scroll_to``, ``rx.set_focus``...) with ``eval`` of a string in its
  ``state.js``, so without it toasts, focus moves and the sign-in form break. It admits no
  injected markup: no ``'unsafe-inline'`` for scripts, no inline event handlers.
* ``style-src 'self' 'unsafe-inline'``: Radix and emotion put ``<style>`` elements and ``style``
  attributes in every page (rendered at build time and at run time).
* ``connect-src 'self'`` and the ``ws(s)://`` form of the app's own origins, for the event socket.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kapjourney.settings import Settings

log = logging.getLogger(__name__)

HSTS = b"max-age=31536000; includeSubDomains"
PERMISSIONS = b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"
NO_STORE_PREFIXES = ("/auth/", "/api/")
EVENT_PATH = "/_event"  # Reflex's socket.io endpoint: a missing Origin is refused there
_SECURED = "kapjourney.secured"  # scope key: the outer layer already handles this request


def content_security_policy(
    *,
    script_hashes: Iterable[str] = (),
    origins: Iterable[str] = (),
    form_origins: Iterable[str] = (),
) -> str:
    """The policy: ``origins`` are the app's own (their ws/wss forms join connect-src)."""
    sockets = [_socket_origin(origin) for origin in origins]
    scripts = ["'self'", "'unsafe-eval'", *(f"'sha256-{h}'" for h in sorted(set(script_hashes)))]
    directives = {
        "default-src": ["'self'"],
        "script-src": scripts,
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *dict.fromkeys(s for s in sockets if s)],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "frame-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'", *dict.fromkeys(form_origins)],
        "object-src": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def _socket_origin(origin: str) -> str:
    parts = urlsplit(origin)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme)
    if not scheme or not parts.netloc or parts.netloc.startswith("["):
        return ""  # a CSP source cannot name an IPv6 literal ('self' still covers it)
    return f"{scheme}://{parts.netloc}"


class _InlineScripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[str] = []
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._text = None if any(name == "src" for name, _ in attrs) else []

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._text is not None:
            self.found.append("".join(self._text))
        self._text = None


def inline_script_hashes(build_dir: Path) -> tuple[str, ...]:
    """Base64 SHA-256 of every inline script in the built pages (none when there is no build)."""
    hashes: set[str] = set()
    for page in sorted(build_dir.rglob("*.html")) if build_dir.is_dir() else ():
        parser = _InlineScripts()
        parser.feed(page.read_text(encoding="utf-8"))
        parser.close()
        for script in parser.found:
            digest = hashlib.sha256(script.encode("utf-8")).digest()
            hashes.add(base64.b64encode(digest).decode("ascii"))
    return tuple(sorted(hashes))


def origin_allowed(headers: Mapping[str, str], allowed: Iterable[str], *, required: bool) -> bool:
    """Browsers name the page's origin; a form post under ``no-referrer`` says ``null``, and then
    only Fetch Metadata (which no page can forge) can tell that it came from this app."""
    origin = headers.get("origin")
    if origin is None:
        return not required
    if origin == "null":
        return headers.get("sec-fetch-site") == "same-origin"
    return origin in allowed


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


class SecurityHeaders:
    """Adds the security headers to every HTTP response; with ``allowed_origins`` it also refuses
    (403) any request, and any websocket, whose Origin is not the app's own."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts: bool,
        csp: str | None = None,
        allowed_origins: Iterable[str] | None = None,
        outermost: bool = False,
    ) -> None:
        self.app = app
        self.hsts = hsts
        self.csp = (csp or content_security_policy()).encode("latin-1")
        self.allowed = None if allowed_origins is None else frozenset(allowed_origins)
        self.outermost = outermost

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get(_SECURED):
            await self.app(scope, receive, send)
            return
        if self.outermost:
            scope = {**scope, _SECURED: True}
        if self.allowed is not None and not self._origin_ok(scope):
            await self._refuse(scope, send)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        extra = self._extra(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers.extend((k, v) for k, v in extra if k not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _extra(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        extra = [
            (b"content-security-policy", self.csp),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"permissions-policy", PERMISSIONS),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if scope.get("path", "").startswith(NO_STORE_PREFIXES):
            extra.append((b"cache-control", b"no-store"))
        if self.hsts or scope.get("scheme") in ("https", "wss"):
            extra.append((b"strict-transport-security", HSTS))
        return extra

    def _origin_ok(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        required = scope["type"] == "websocket" or path.startswith(EVENT_PATH)
        return origin_allowed(_headers(scope), self.allowed or (), required=required)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        origin = _headers(scope).get("origin")
        log.warning(
            "refused a %s request to %s from origin %r",
            scope["type"],
            scope.get("path", ""),
            (origin or "(none)")[:200],
        )
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
            return
        body = b"Forbidden: this request did not come from this app.\n"
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            *self._extra(scope),
        ]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def secure_app(app: ASGIApp, *, settings: Settings, build_dir: Path) -> ASGIApp:
    """The whole app behind the security layer, its policy hashing the built pages' scripts."""
    origins = settings.allowed_origins
    forms = [settings.oidc_origin] if settings.oidc_origin else []
    csp = content_security_policy(
        script_hashes=inline_script_hashes(build_dir), origins=origins, form_origins=forms
    )
    return SecurityHeaders(
        app, hsts=settings.secure_cookies, csp=csp, allowed_origins=origins, outermost=True
    )
