"""HTTP routes of the installable app: the service worker script, Web Push subscriptions, the
notification receipts, and the offline replay endpoint.

Every route that touches a person's data resolves the actor from the HttpOnly session cookie and
calls the same services as the Reflex pages; nothing here trusts an id the browser names for
whose data it is.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import select

from kapjourney.auth import ratelimit, sessions
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.models import SubmissionReceipt
from kapjourney.domain.schemas import Actor
from kapjourney.services import checkins, reminders, symptoms
from kapjourney.services.uow import unit_of_work
from kapjourney.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

SW_PATH = PROJECT_ROOT / "assets" / "sw.js"
BUILT_INDEX = PROJECT_ROOT / ".web" / "build" / "client" / "index.html"
MAX_SYNC_BYTES = 256 * 1024
MAX_PUSH_BYTES = 8 * 1024
SIGN_IN_FIRST = {"form": "Sign in to send this."}
OTHER_ACCOUNT = {"form": "This was saved on this phone under another account, so it was not sent."}
KINDS = ("checkin", "symptom_report")


@lru_cache(maxsize=1)
def release_id() -> str:
    """One id per release: the service worker's caches are named after it, so a new build
    replaces every cached file and an update never strands a client on old assets."""
    try:
        release = version("kapjourney")
    except PackageNotFoundError:
        release = "dev"
    digest = hashlib.sha256(release.encode())
    for path in (SW_PATH, BUILT_INDEX):
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def owner_tag(user_id: int, settings: Settings) -> str:
    """Who an entry queued offline belongs to, without naming them: the offline page carries
    the signed-in client's tag, every entry queued from it keeps the tag, and a replay under
    another sign-in on a shared phone is refused rather than applied to the wrong account."""
    key = settings.session_secret().encode("utf-8")
    digest = hmac.new(key, f"offline-owner:{user_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:24]


def _owned_by(actor: Actor, owner: object, settings: Settings) -> bool:
    """True unless the entry names an owner other than ``actor`` (entries queued before tags
    existed name none, and are accepted)."""
    if owner is None:
        return True
    if not isinstance(owner, str) or not owner.isascii():
        return False
    return hmac.compare_digest(owner, owner_tag(actor.user_id, settings))


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _same_origin(request: Request, settings: Settings) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return origin in (own, settings.public_origin)


async def _body(request: Request, limit: int) -> dict[str, Any] | None:
    raw = await request.body()
    if len(raw) > limit:
        return None
    try:
        data = json.loads(raw or b"{}")
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _actor(request: Request, settings: Settings) -> Actor | None:
    token = sessions.token_from_cookie_header(request.headers.get("cookie", ""), settings=settings)
    if token is None:
        return None
    with unit_of_work() as session:
        return sessions.resolve_session(session, token=token, ip=_ip(request), settings=settings)


def _fail(errors: dict[str, str], status: int) -> JSONResponse:
    return JSONResponse({"ok": False, "errors": errors}, status_code=status)


async def _flooded(
    request: Request, limiter: ratelimit.RateLimiter, rate: ratelimit.Rate, settings: Settings
) -> JSONResponse | None:
    """429 once this session (else this address) has spent its allowance of writes."""
    token = sessions.token_from_cookie_header(request.headers.get("cookie", ""), settings=settings)
    key = f"session:{token}" if token else f"address:{_ip(request)}"
    if not (wait := await limiter.ahit("api", key, rate)):
        return None
    response = _fail({"form": ratelimit.wait_message(wait)}, 429)
    response.headers["Retry-After"] = str(wait)
    return response


def _sync(actor: Actor, item: dict[str, Any], settings: Settings) -> JSONResponse:
    if not _owned_by(actor, item.get("owner"), settings):
        log.warning("offline entry refused: it was queued on a phone under another account")
        return _fail(OTHER_ACCOUNT, 422)
    kind, sid, data = item.get("kind"), item.get("submission_id"), item.get("data")
    if kind not in KINDS or not isinstance(data, dict):
        return _fail({"form": "That could not be read. Please fill it in again."}, 422)
    captured = item.get("captured_at")
    with unit_of_work() as session:
        known = isinstance(sid, str) and (
            session.exec(
                select(SubmissionReceipt.id).where(
                    SubmissionReceipt.client_id == actor.user_id,
                    SubmissionReceipt.submission_id == sid,
                )
            ).first()
            is not None
        )
        body: dict[str, Any] = {"ok": True, "status": "duplicate" if known else "stored"}
        if kind == "checkin":
            checkins.submit_checkin(
                session=session,
                actor=actor,
                submission_id=sid,
                day=data.get("day", "today"),
                mood=data.get("mood"),
                anxiety=data.get("anxiety"),
                sleep=data.get("sleep"),
                energy=data.get("energy") or None,
                note=data.get("note", ""),
                captured_at=captured,
            )
        else:
            result = symptoms.submit_report(
                session=session,
                actor=actor,
                dosing_session_id=data.get("dosing_session_id"),
                offset_minutes=data.get("offset_minutes"),
                submission_id=sid,
                answers=data.get("answers"),
                systolic=data.get("systolic"),
                diastolic=data.get("diastolic"),
                pulse=data.get("pulse"),
                note=data.get("note", ""),
                captured_at=captured,
            )
            body["support"] = result.tier in ("urgent", "emergency")
    return JSONResponse(body, status_code=200)


def register(api: FastAPI, settings: Settings) -> None:
    limiter = ratelimit.RateLimiter(settings.rate_limit_storage)
    rate = ratelimit.Rate(settings.api_requests_per_session_per_minute, 60)

    @api.get("/sw.js", include_in_schema=False)
    async def service_worker() -> Response:
        script = SW_PATH.read_text(encoding="utf-8").replace("__KJ_RELEASE__", release_id())
        return Response(
            script,
            media_type="text/javascript",
            headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
        )

    @api.get("/api/push/public-key")
    async def public_key() -> JSONResponse:
        from kapjourney.notifications.vapid import load_keys

        try:
            keys = await asyncio.to_thread(load_keys, settings)
        except RuntimeError:  # no key yet: `python -m kapjourney.cli init` makes one
            log.error("push public key requested but no VAPID key is configured")
            return _fail({"push": "Reminders are not set up on this server yet."}, 503)
        return JSONResponse({"key": keys.public_key})

    @api.post("/api/push/subscriptions")
    async def subscribe(request: Request) -> JSONResponse:
        from kapjourney.notifications.endpoints import Allowlist, check_subscription

        if not _same_origin(request, settings):
            return _fail({"form": "This request came from another site."}, 403)
        if (refused := await _flooded(request, limiter, rate, settings)) is not None:
            return refused
        data = await _body(request, MAX_PUSH_BYTES)
        if data is None:
            return _fail({"subscription": "That push subscription is malformed."}, 400)
        actor = await asyncio.to_thread(_actor, request, settings)
        if actor is None:
            return _fail({"form": "not found"}, 404)
        try:
            checked = check_subscription(
                data.get("subscription"), Allowlist.parse(settings.push_allowed)
            )
        except ValidationFailed as problem:
            return _fail(problem.fields, 400)
        agent = request.headers.get("user-agent", "")[:400]

        def work():
            with unit_of_work() as session:
                return reminders.save_device(
                    session=session,
                    actor=actor,
                    device=reminders.NewDevice(checked.endpoint, checked.p256dh, checked.auth),
                    user_agent=agent,
                    resave=data.get("resave") is True,
                )

        try:
            view = await asyncio.to_thread(work)
        except NotFound:
            return _fail({"form": "not found"}, 404)
        return JSONResponse({"ok": True, "device": view.model_dump()}, status_code=201)

    @api.post("/api/push/unsubscribe")
    async def unsubscribe(request: Request) -> JSONResponse:
        if not _same_origin(request, settings):
            return _fail({"form": "This request came from another site."}, 403)
        if (refused := await _flooded(request, limiter, rate, settings)) is not None:
            return refused
        data = await _body(request, MAX_PUSH_BYTES)
        if data is None:
            return _fail({"form": "That request was malformed."}, 400)
        actor = await asyncio.to_thread(_actor, request, settings)
        if actor is None:
            return _fail({"form": "not found"}, 404)

        def work() -> bool:
            with unit_of_work() as session:
                return reminders.forget_device(
                    session=session, actor=actor, endpoint=data.get("endpoint")
                )

        try:
            found = await asyncio.to_thread(work)
        except NotFound:
            return _fail({"form": "not found"}, 404)
        return JSONResponse({"ok": True, "removed": found})

    @api.post("/api/push/permission")
    async def permission(request: Request) -> JSONResponse:
        if not _same_origin(request, settings):
            return _fail({"form": "This request came from another site."}, 403)
        if (refused := await _flooded(request, limiter, rate, settings)) is not None:
            return refused
        data = await _body(request, MAX_PUSH_BYTES)
        if data is None:
            return _fail({"permission": "That request was malformed."}, 400)
        actor = await asyncio.to_thread(_actor, request, settings)
        if actor is None:
            return _fail({"form": "not found"}, 404)

        def work() -> None:
            with unit_of_work() as session:
                reminders.report_permission(
                    session=session, actor=actor, permission=data.get("permission")
                )

        try:
            await asyncio.to_thread(work)
        except ValidationFailed as problem:
            return _fail(problem.fields, 400)
        except NotFound:
            return _fail({"form": "not found"}, 404)
        return JSONResponse({"ok": True})

    @api.post("/api/notifications/{public_id}/seen")
    async def seen(public_id: str, request: Request) -> Response:
        if not _same_origin(request, settings):
            return _fail({"form": "This request came from another site."}, 403)
        if (refused := await _flooded(request, limiter, rate, settings)) is not None:
            return refused
        data = await _body(request, 1024)
        actor = await asyncio.to_thread(_actor, request, settings)
        if actor is None or data is None:
            return Response(status_code=404)

        def work() -> bool:
            with unit_of_work() as session:
                return reminders.mark_seen(
                    session=session, actor=actor, public_id=public_id, event=data.get("event")
                )

        found = await asyncio.to_thread(work)
        return Response(status_code=204 if found else 404)

    @api.post("/api/sync")
    async def sync(request: Request) -> JSONResponse:
        """Replay of something made offline. Idempotent by the device's submission id; the true
        capture time is kept; the same services and safety rules as the online path."""
        if not _same_origin(request, settings):
            return _fail({"form": "This request came from another site."}, 403)
        if (refused := await _flooded(request, limiter, rate, settings)) is not None:
            return refused
        data = await _body(request, MAX_SYNC_BYTES)
        if data is None:
            return _fail({"form": "That was too large or could not be read."}, 422)
        actor = await asyncio.to_thread(_actor, request, settings)
        if actor is None:
            return _fail(SIGN_IN_FIRST, 401)
        try:
            return await asyncio.to_thread(_sync, actor, data, settings)
        except ValidationFailed as problem:
            return _fail(problem.fields, 422)
        except NotFound:
            return _fail({"form": "not found"}, 404)
