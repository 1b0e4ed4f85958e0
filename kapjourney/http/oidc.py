"""Clinician single sign-on routes: GET /auth/oidc/start and GET /auth/oidc/callback.

Both are top-level navigations. Start keeps the login in flight server-side and sets an HttpOnly
SameSite=Lax cookie (it must come back on the provider's redirect) that binds it to this browser.
The callback ends in the same server-side session and cookie as password sign-in. Every failure
is audited with a short reason code and lands on the sign-in page with one generic message; no
token, code or claim is logged or put in a URL of ours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import IntegrityError

from kapjourney.auth import oidc, oidc_accounts, ratelimit, sessions
from kapjourney.auth.oidc import PendingLogin, SsoFailure
from kapjourney.auth.signin import retry_address
from kapjourney.routes import HOME_BY_ROLE, SIGNIN
from kapjourney.services.uow import unit_of_work
from kapjourney.settings import Settings

OIDC_START = "/auth/oidc/start"
OIDC_CALLBACK = "/auth/oidc/callback"
SSO_FAILED = f"{SIGNIN}?sso=failed"  # the sign-in page shows the generic message
SSO_WAIT = retry_address("wait")  # too many starts from one address: "wait a few minutes"


def pending_cookie_name(settings: Settings) -> str:
    return "__Host-kj_oidc" if settings.secure_cookies else "kj_oidc"


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def router(
    settings: Settings,
    *,
    set_session_cookie: Callable[..., Any],
    limiter: ratelimit.RateLimiter,
    rate: ratelimit.Rate,
) -> APIRouter:
    """``set_session_cookie(response, token, settings)`` is password sign-in's own cookie
    writer, so both ways in end with the same cookie. Starts are limited per address at
    password sign-in's ``rate``: each one stores a pending login and asks the provider."""
    oidc.configured_providers(settings)  # a half-filled configuration stops the app here
    api = APIRouter()
    redirect_uri = settings.public_url.rstrip("/") + OIDC_CALLBACK
    cookie = pending_cookie_name(settings)

    def failed(reason: str, ip: str, actor_id: int | None = None) -> Response:
        with unit_of_work() as session:
            oidc_accounts.record_failure(session, reason=reason, ip=ip, actor_id=actor_id)
        return _forget_pending(RedirectResponse(SSO_FAILED, status_code=303))

    def _forget_pending(response: Response) -> Response:
        response.delete_cookie(
            cookie, path="/", secure=settings.secure_cookies, httponly=True, samesite="lax"
        )
        return response

    @api.get(OIDC_START)
    async def start(request: Request) -> Response:
        provider = oidc.find_provider(settings)
        if provider is None:
            return RedirectResponse(SIGNIN, status_code=303)
        ip = _client_ip(request)
        if await limiter.ahit("sso-start", ip, rate):
            return RedirectResponse(SSO_WAIT, status_code=303)
        try:
            auth_request = await oidc.authorization_request(provider, redirect_uri=redirect_uri)
        except SsoFailure as failure:
            return await asyncio.to_thread(failed, failure.reason, ip)

        def save() -> str:
            with unit_of_work() as session:
                return oidc.save_pending(
                    session,
                    provider=provider,
                    request=auth_request,
                    return_to=request.query_params.get("next", ""),
                )

        browser_secret = await asyncio.to_thread(save)
        response = RedirectResponse(auth_request["url"], status_code=303)
        response.set_cookie(
            cookie,
            browser_secret,
            max_age=oidc.PENDING_MINUTES * 60,
            httponly=True,
            secure=settings.secure_cookies,
            samesite="lax",
            path="/",
        )
        return response

    @api.get(OIDC_CALLBACK)
    async def callback(request: Request) -> Response:
        query = request.query_params
        ip = _client_ip(request)

        def take() -> PendingLogin | SsoFailure:
            # The state is used up (and a refusal audited) in one committed transaction.
            with unit_of_work() as session:
                try:
                    return oidc.take_pending(
                        session,
                        state=query.get("state"),
                        browser_secret=request.cookies.get(cookie),
                    )
                except SsoFailure as failure:
                    oidc_accounts.record_failure(session, reason=failure.reason, ip=ip)
                    return failure

        pending = await asyncio.to_thread(take)
        if isinstance(pending, SsoFailure):
            return _forget_pending(RedirectResponse(SSO_FAILED, status_code=303))
        previous = sessions.token_from_cookie_header(
            request.headers.get("cookie", ""), settings=settings
        )
        try:
            if query.get("error"):
                raise SsoFailure("provider_refused")
            provider = oidc.find_provider(settings, pending.provider)
            if provider is None:
                raise SsoFailure("provider_gone")
            claims = await oidc.verified_claims(
                provider, code=query.get("code"), pending=pending, redirect_uri=redirect_uri
            )

            def sign_in() -> oidc_accounts.SsoOutcome:
                with unit_of_work() as session:
                    return oidc_accounts.sign_in_with_claims(
                        session,
                        provider=provider,
                        claims=claims,
                        ip=ip,
                        user_agent=request.headers.get("user-agent", ""),
                        previous_token=previous,
                        settings=settings,
                    )

            outcome = await asyncio.to_thread(sign_in)
        except SsoFailure as failure:
            return await asyncio.to_thread(failed, failure.reason, ip, failure.actor_id)
        except IntegrityError:  # two first sign-ins of one identity raced; the other one won
            return await asyncio.to_thread(failed, "link_conflict", ip)
        target = pending.return_to or HOME_BY_ROLE[str(outcome.role)]
        response = set_session_cookie(
            RedirectResponse(target, status_code=303), outcome.token, settings
        )
        return _forget_pending(response)

    return api
