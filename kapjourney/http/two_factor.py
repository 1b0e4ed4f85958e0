"""The second step of a staff password sign-in, over HTTP like the password itself:

- POST /auth/two-factor/verify {code, trust_device}: a code from the authenticator app or a
  recovery code. With ``trust_device`` this browser gets an HttpOnly cookie that lets it skip
  this step for 30 days. Posted by the browser itself (the page's form, before its script has
  started), it answers with a redirect: home when right, back to the code page when not.
- POST /auth/two-factor/enrol/confirm {code}: the first code from a newly added app; the reply
  carries the recovery codes, once.

Both answer only a pending session (auth/sessions.resolve_pending), and both end it: the pending
token is revoked and a new full-stage token goes out in a new cookie. Same-origin rule and 429s
as for /auth/signin. No code, secret or token is logged or put in a URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlmodel import Session

from kapjourney.auth import ratelimit, sessions, two_factor
from kapjourney.domain.errors import NotFound
from kapjourney.domain.models import User
from kapjourney.routes import HOME_BY_ROLE, SIGNIN, SIGNIN_VERIFY
from kapjourney.services.uow import unit_of_work
from kapjourney.settings import Settings

VERIFY = "/auth/two-factor/verify"
ENROL_CONFIRM = "/auth/two-factor/enrol/confirm"
EXPIRED = "Your sign-in has timed out. Sign in again."
MAX_CODE = 64


@dataclass(frozen=True)
class _Finished:
    """A posted code's outcome; when ``check.ok``, the new full session's token, where to go
    next, and this browser's trusted-device token when it asked to be trusted."""

    check: two_factor.CodeCheck
    token: str = ""
    next: str = ""
    device: str = ""


def trusted_cookie_name(settings: Settings) -> str:
    return "__Host-kj_trusted" if settings.secure_cookies else "kj_trusted"


def router(
    settings: Settings, *, limiter: ratelimit.RateLimiter, rate: ratelimit.Rate
) -> APIRouter:
    # The shared request helpers live in http/app.py, which mounts this router; imported here,
    # at mount time, so neither module imports the other while loading.
    from kapjourney.http import app as web

    api = APIRouter()

    async def _start(request: Request) -> tuple[dict[str, Any], str] | Response:
        if not web._same_origin(request, settings):
            return web._error({"form": "This request came from another site."}, 403)
        if wait := await limiter.ahit("two-factor", web._client_ip(request), rate):
            return web._too_many(wait)
        data = await (web._form_body(request) if _native(request) else web._json_body(request))
        if data is None:
            return web._error({"form": "That request was too large or malformed."})
        token = sessions.token_from_cookie_header(
            request.headers.get("cookie", ""), settings=settings
        )
        if not token:
            return web._error({"form": EXPIRED}, 401, next=SIGNIN)
        return data, token

    def _native(request: Request) -> bool:
        """The verify page's form posted by the browser itself: a tap on "Verify" before the
        page's script has started (the form's action and method; never a GET)."""
        return request.headers.get("content-type", "").startswith(web.FORM_TYPE)

    def _code(data: dict[str, Any]) -> str:
        code = data.get("code")
        return code[:MAX_CODE] if isinstance(code, str) else ""

    def _refused(check: two_factor.CodeCheck) -> JSONResponse:
        if check.retry_after_seconds:
            response = web._error(check.errors, 429)
            response.headers["Retry-After"] = str(check.retry_after_seconds)
            return response
        return web._error(check.errors)

    async def _finish(
        request: Request, stage: str, check_code: Callable[..., two_factor.CodeCheck]
    ) -> _Finished | Response:
        """The code posted for the sign-in that owes ``stage``, checked by ``check_code``; when
        it is right, the pending session ends and a full one begins (and this browser is trusted
        when the verify form asked). Otherwise the refusal to send."""
        started = await _start(request)
        if isinstance(started, Response):
            return started
        data, token = started
        ip, agent = web._client_ip(request), request.headers.get("user-agent", "")
        trust = stage == sessions.VERIFY and data.get("trust_device") in (True, "on", "true", "1")

        def work() -> _Finished | None:
            with unit_of_work() as session:
                pending = sessions.resolve_pending(session, token=token, settings=settings)
                if pending is None or pending.stage != stage:
                    return None
                user_id = pending.user_id
                check = check_code(
                    session, user_id=user_id, code=_code(data), ip=ip, settings=settings
                )
                if not check.ok:
                    return _Finished(check)
                new_token = two_factor.finish_sign_in(
                    session,
                    pending_token=token,
                    user_id=user_id,
                    ip=ip,
                    user_agent=agent,
                    settings=settings,
                )
                device = (
                    two_factor.trust_browser(session, user_id=user_id, user_agent=agent)
                    if trust
                    else ""
                )
                return _Finished(check, new_token, HOME_BY_ROLE[_role(session, user_id)], device)

        try:
            done = await asyncio.to_thread(work)
        except NotFound:
            done = None
        if done is None:
            return web._error({"form": EXPIRED}, 401, next=SIGNIN)
        return done if done.check.ok else _refused(done.check)

    @api.post(VERIFY)
    async def verify(request: Request) -> Response:
        done = await _finish(request, sessions.VERIFY, two_factor.verify)
        native = _native(request)  # posted by the browser itself, before the page's script ran
        if isinstance(done, Response):
            if native and done.status_code != 403:
                # Back to the code page to try again, or to sign-in when the sign-in has timed
                # out; as with the sign-in form's own fallback, the page does not say why.
                back = SIGNIN if done.status_code == 401 else SIGNIN_VERIFY
                return RedirectResponse(back, status_code=303)
            return done
        response: Response
        if native:
            response = RedirectResponse(done.next, status_code=303)
        else:
            response = JSONResponse({"ok": True, "next": done.next})
        if done.device:
            response.set_cookie(
                trusted_cookie_name(settings),
                done.device,
                max_age=two_factor.TRUSTED_DAYS * 24 * 3600,
                httponly=True,
                secure=settings.secure_cookies,
                samesite="lax",
                path="/",
            )
        return web._with_session_cookie(response, done.token, settings)

    @api.post(ENROL_CONFIRM)
    async def confirm(request: Request) -> Response:
        done = await _finish(request, sessions.ENROL, two_factor.confirm_enrolment)
        if isinstance(done, Response):
            return done
        response = JSONResponse({"ok": True, "codes": done.check.recovery_codes, "next": done.next})
        response.headers["Cache-Control"] = "no-store"
        return web._with_session_cookie(response, done.token, settings)

    return api


def _role(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return str(user.role) if user else "clinician"
