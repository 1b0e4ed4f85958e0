"""How the built front end is delivered (issue 8, front-end budget), around Reflex's static mount.

* **A page at its own address, at once.** The build holds each page as ``<page>/index.html``, and
  Reflex's static mount answers ``/checkin`` with a redirect to ``/checkin/``: one more round trip
  before a phone sees anything, on every reload, home-screen start and reminder tap. A request
  for a built page without its slash is served that page directly.
* **Hashed bundles cached for good.** Files under ``/assets/`` carry a hash of their content in
  their name, so a browser may keep them for a year without asking again; a new release has
  new names. Everything else keeps the mount's validators (ETag, Last-Modified) and is marked
  ``no-cache``: revalidated on every use, never reused offline from the browser's cache.
"""

from __future__ import annotations

from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HASHED_PREFIX = "/assets/"
IMMUTABLE = b"public, max-age=31536000, immutable"
# Pages and unhashed files are asked for again every time (a 304 when unchanged). Without a
# Cache-Control, a browser may reuse a page from its heuristic cache, offline too: the service
# worker would then get a page shell with no server behind it instead of its offline page.
REVALIDATE = b"no-cache"


def _with_default(send: Send, value: bytes) -> Send:
    """``send`` with a Cache-Control header added to a response that names none."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(key.lower() == b"cache-control" for key, _ in headers):
                message["headers"] = [*headers, (b"cache-control", value)]
        await send(message)

    return sending


def built_pages(build_dir: Path) -> frozenset[str]:
    """The paths (no trailing slash) of every page the build holds as ``<page>/index.html``."""
    if not build_dir.is_dir():
        return frozenset()
    return frozenset(
        "/" + index.parent.relative_to(build_dir).as_posix()
        for index in build_dir.rglob("index.html")
        if index.parent != build_dir
    )


class StaticDelivery:
    def __init__(self, app: ASGIApp, *, build_dir: Path) -> None:
        self.app = app
        self.pages = built_pages(build_dir)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path in self.pages:
            scope = {**scope, "path": path + "/", "raw_path": (path + "/").encode()}
        if not path.startswith(HASHED_PREFIX):
            await self.app(scope, receive, _with_default(send, REVALIDATE))
            return

        async def send_cached(message: Message) -> None:
            if message["type"] == "http.response.start" and message.get("status") in (200, 304):
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"cache-control"]
                message["headers"] = [*headers, (b"cache-control", IMMUTABLE)]
            await send(message)

        await self.app(scope, receive, send_cached)
