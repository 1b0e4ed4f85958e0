"""HTTP routes mounted in front of Reflex (``rx.App(api_transformer=...)``).

Credentials never travel over the Reflex websocket: the sign-in and invite forms post JSON here,
and the response sets the HttpOnly session cookie. The page then reloads, so the websocket
reconnects carrying the new cookie.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, TypeVar
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from kapjourney import db
from kapjourney.auth import ratelimit, sessions, signin
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.http import exports, offline, oidc, push, two_factor
from kapjourney.http.security import SecurityHeaders, origin_allowed
from kapjourney.routes import HOME_BY_ROLE, NEXT_BY_STAGE, SIGNIN, TODAY
from kapjourney.services import accounts
from kapjourney.services.consent_pdf import consent_pdf as consent_pdf_service
from kapjourney.services.uow import unit_of_work
from kapjourney.services.validation import record_id
from kapjourney.settings import Settings, get_settings

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"
UNAVAILABLE = "We could not reach your records just now. Nothing was lost; try again in a moment."
R = TypeVar("R", bound=Response)  # room for two 1 MB fields, so they get field messages


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _same_origin(request: Request, settings: Settings) -> bool:
    """Refuse cross-site posts (the cookie is SameSite=Strict too; this is the second lock)."""
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    # No Origin: a non-browser client. "null": a native form post under no-referrer (security.py).
    return origin_allowed(request.headers, (own, *settings.allowed_origins), required=False)


async def _json_body(request: Request) -> dict[str, Any] | None:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return None
    try:
        data = json.loads(body or b"{}")
        # Lone surrogates parse but cannot be stored or hashed as UTF-8: refuse them here.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


async def _form_body(request: Request) -> dict[str, Any] | None:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return None
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (ValueError, UnicodeError):
        return None
    return {key: values[0] for key, values in fields.items() if values}


def _error(errors: dict[str, str], status: int = 400, **extra: Any) -> JSONResponse:
    return JSONResponse({"ok": False, "errors": errors, **extra}, status_code=status)


def _too_many(wait: int) -> JSONResponse:
    """429 with Retry-After; the page shows the message at the form."""
    response = _error({"form": ratelimit.wait_message(wait)}, 429)
    response.headers["Retry-After"] = str(wait)
    return response


def _with_session_cookie(response: R, token: str, settings: Settings) -> R:
    response.set_cookie(
        settings.session_cookie_name,
        token,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="strict",
        path="/",
    )
    return response


def create_api(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    api = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    api.state.settings = settings  # the routes' own settings (tests finish sign-ins with them)
    api.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)

    @api.exception_handler(sa_exc.SQLAlchemyError)
    async def _database_trouble(request: Request, error: Exception) -> Response:
        """A route whose database did not answer gets 503 and one calm sentence at its form
        (the page keeps what was typed), never a 500 page; any other database fault is a plain
        500 with no detail. Only the error's class is logged: a driver's message can quote a
        statement's parameters."""
        if db.unavailable(error):
            log.warning(
                "database unavailable during %s (%s)", request.url.path, type(error).__name__
            )
            response = _error({"form": UNAVAILABLE}, 503)
            response.headers["Retry-After"] = "5"
            return response
        log.error("database error during %s (%s)", request.url.path, type(error).__name__)
        return _error({"form": "Something went wrong. Please try again."}, 500)

    limiter = ratelimit.RateLimiter(settings.rate_limit_storage)
    signin_rate = ratelimit.Rate(settings.signin_requests_per_address_per_minute, 60)
    invite_rate = ratelimit.Rate(settings.invite_attempts, settings.invite_window_minutes * 60)

    @api.post("/auth/signin")
    async def sign_in(request: Request) -> Response:
        if not _same_origin(request, settings):
            return _error({"form": "This request came from another site."}, 403)
        # Requests per address, before any work (failures per account and per address are
        # counted in the database by signin.authenticate).
        if wait := await limiter.ahit("signin", _client_ip(request), signin_rate):
            return _too_many(wait)
        # A tap on "Sign in" before the page's script has started posts the form natively
        # (never as a GET, so the password never lands in a URL): it still signs in.
        native = request.headers.get("content-type", "").startswith(FORM_TYPE)
        data = await (_form_body(request) if native else _json_body(request))
        if data is None:
            return _error({"form": "That request was too large or malformed."})
        previous = sessions.token_from_cookie_header(
            request.headers.get("cookie", ""), settings=settings
        )
        trusted = request.cookies.get(two_factor.trusted_cookie_name(settings))

        def work() -> signin.SignInOutcome:
            with unit_of_work() as session:
                return signin.authenticate(
                    session=session,
                    email=data.get("email") if isinstance(data.get("email"), str) else "",
                    password=data.get("password") if isinstance(data.get("password"), str) else "",
                    ip=_client_ip(request),
                    user_agent=request.headers.get("user-agent", ""),
                    previous_token=previous,
                    trusted_browser=trusted,
                    settings=settings,
                )

        def back_to_signin(throttled: bool = False) -> Response:
            """A native post that did not sign in: back to the page, which shows why."""
            word = signin.retry_word(data.get("email"), data.get("password"), throttled=throttled)
            return RedirectResponse(signin.retry_address(word), status_code=303)

        try:
            outcome = await asyncio.to_thread(work)
        except ValidationFailed as problem:
            return back_to_signin() if native else _error(problem.fields)
        # Staff who owe a second factor go to its page; everyone else to their home.
        target = NEXT_BY_STAGE.get(outcome.stage) or HOME_BY_ROLE.get(str(outcome.role), SIGNIN)
        if native:
            if not outcome.ok:
                return back_to_signin(throttled=bool(outcome.retry_after_seconds))
            redirect = RedirectResponse(target, status_code=303)
            return _with_session_cookie(redirect, outcome.token, settings)
        if not outcome.ok:
            status = 429 if outcome.retry_after_seconds else 400
            response = _error(outcome.errors or {}, status)
            if outcome.retry_after_seconds:
                response.headers["Retry-After"] = str(outcome.retry_after_seconds)
            return response
        response = JSONResponse({"ok": True, "next": target})
        return _with_session_cookie(response, outcome.token, settings)

    @api.post("/auth/signout")
    async def sign_out(request: Request) -> JSONResponse:
        if not _same_origin(request, settings):
            return _error({"form": "This request came from another site."}, 403)
        token = sessions.token_from_cookie_header(
            request.headers.get("cookie", ""), settings=settings
        )

        def work() -> None:
            with unit_of_work() as session:
                signin.sign_out(session=session, token=token, ip=_client_ip(request))

        await asyncio.to_thread(work)
        response = JSONResponse({"ok": True, "next": SIGNIN})
        response.delete_cookie(
            settings.session_cookie_name,
            path="/",
            secure=settings.secure_cookies,
            httponly=True,
            samesite="strict",
        )
        response.headers["Clear-Site-Data"] = '"cookies", "storage"'
        return response

    @api.post("/auth/invite/accept")
    async def accept_invite(request: Request) -> JSONResponse:
        if not _same_origin(request, settings):
            return _error({"form": "This request came from another site."}, 403)
        if wait := await limiter.ahit("invite-address", _client_ip(request), invite_rate):
            return _too_many(wait)
        data = await _json_body(request)
        if data is None:
            return _error({"form": "That request was too large or malformed."})
        invite = data.get("token")
        if wait := await limiter.ahit("invite-token", str(invite)[:512], invite_rate):
            return _too_many(wait)

        def work() -> str:
            with unit_of_work() as session:
                return accounts.accept_invite(
                    session=session,
                    token=data.get("token"),
                    password=data.get("password"),
                    confirm=data.get("confirm"),
                    ip=_client_ip(request),
                    user_agent=request.headers.get("user-agent", ""),
                    settings=settings,
                )

        try:
            token = await asyncio.to_thread(work)
        except ValidationFailed as problem:
            return _error(problem.fields)
        response = JSONResponse({"ok": True, "next": TODAY})
        return _with_session_cookie(response, token, settings)

    @api.get("/api/consent/{signature_id}.pdf")
    async def consent_pdf(signature_id: str, request: Request) -> Response:
        """A signed consent as a PDF, for the client and their care team; others get 404."""
        token = sessions.token_from_cookie_header(
            request.headers.get("cookie", ""), settings=settings
        )
        ip = _client_ip(request)

        def work() -> tuple[str, bytes] | None:
            if token is None:
                return None
            with unit_of_work() as session:
                actor = sessions.resolve_session(session, token=token, ip=ip)
            if actor is None:
                return None
            wanted = record_id(signature_id)
            with unit_of_work() as session:
                return consent_pdf_service(session=session, actor=actor, signature_id=wanted)

        try:
            result = await asyncio.to_thread(work)
        except NotFound:
            return JSONResponse({"error": "not found"}, status_code=404)
        if result is None:
            return JSONResponse({"error": "sign in first"}, status_code=401)
        filename, pdf = result
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "content-disposition": f'attachment; filename="{filename}"',
                "cache-control": "no-store",
            },
        )

    push.register(api, settings)  # service worker, push subscriptions, offline replay
    exports.register(api, settings)  # issue 6: CSV, FHIR and PDF exports
    api.include_router(offline.router)  # the offline page the service worker falls back to
    api.include_router(  # SSO
        oidc.router(
            settings, set_session_cookie=_with_session_cookie, limiter=limiter, rate=signin_rate
        )
    )
    # Two-factor sign-in for staff (issue 7): the code step and enrolment's confirmation.
    api.include_router(two_factor.router(settings, limiter=limiter, rate=signin_rate))

    @api.get("/api/health")
    async def health() -> JSONResponse:
        def ping() -> None:
            with db.get_engine().connect() as connection:
                connection.execute(text("SELECT 1"))

        try:
            await asyncio.to_thread(ping)
        except Exception:  # a health probe must answer, whatever the database says
            log.exception("health check: database unreachable")
            return JSONResponse({"status": "degraded"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return api
