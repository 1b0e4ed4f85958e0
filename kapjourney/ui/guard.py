"""The one authorization guard for Reflex event handlers.

Every handler on a page state is a public endpoint: any connected browser can call it with any
arguments. ``@authorized(...)`` resolves the actor from the HttpOnly session cookie on *every*
call (never from Reflex's client token), checks the role, and makes the actor available to the
handler through ``current_actor()``. Data-level checks (which client) happen in the services,
which raise ``AccessDenied``; ``call_service`` turns that into "not found" after it is audited.

Before any work, both ``@authorized`` and ``@public`` take a token from the caller's event
allowance (per auth session, or per Reflex tab when signed out). Over it, the handler does nothing
and the page gets one calm toast; the flood is audited once per burst. Other sessions are
unaffected. Auto-setters are refused at import: with them every state var would be settable
from the browser through ``setvar``.

A test enumerates every registered handler and fails when one carries neither this guard nor an
entry in ``PUBLIC_HANDLERS`` with a reason.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar

import reflex as rx
from reflex.istate.proxy import StateProxy
from reflex_base.config import get_state_auto_setters

from kapjourney import db
from kapjourney.auth import ratelimit, sessions
from kapjourney.domain.enums import Role
from kapjourney.domain.schemas import Actor
from kapjourney.routes import HOME_BY_ROLE, SIGNIN
from kapjourney.services import audit
from kapjourney.services.uow import unit_of_work

log = logging.getLogger(__name__)
_ACTOR: ContextVar[Actor | None] = ContextVar("kj_actor", default=None)
GUARD_ATTR = "__kj_roles__"
T = TypeVar("T")
RATE_LIMITED = "Too many actions at once. Wait a moment and try again."
RATE_LIMITED_TOAST = "kj-rate-limited"  # one toast, replaced rather than stacked
# The database did not answer (restarting, unreachable, pool exhausted): the event did nothing
# durable, the page keeps what it shows and what was typed, and the person may simply try again.
UNAVAILABLE = "Could not save just now. What you entered is still here; try again in a moment."
UNAVAILABLE_TOAST = "kj-unavailable"
_unavailable = db.unavailable


def _unavailable_notice(
    state: rx.State, fn: Callable[..., Any], args: tuple, kwargs: dict, error: Exception
) -> Any:
    """What the page gets when the database did not answer: the state's own
    ``_keep_while_unavailable(handler, arguments)`` may keep what was typed in this tab (no
    database, nothing durable) and say so at its form (True); otherwise one calm toast."""
    # The class only: a driver's message can quote the statement's parameters (health data).
    log.warning("database unavailable during %s (%s)", fn.__qualname__, type(error).__name__)
    keep = getattr(state, "_keep_while_unavailable", None)
    if keep is not None and (call := _fitted(fn, args, kwargs)) is not None:
        arguments = inspect.signature(fn).bind(None, *call[0], **call[1]).arguments
        arguments.pop(next(iter(arguments)))  # self
        if keep(fn.__name__, dict(arguments)):
            return None
    return rx.toast.error(UNAVAILABLE, id=UNAVAILABLE_TOAST, duration=10_000)


async def calmly(
    state: rx.State, fn: Callable[..., Any], args: tuple, kwargs: dict, work: Awaitable[Any]
) -> Any:
    """Await ``work`` (the guarded call of ``fn``); when the database does not answer, the page
    gets the calm notice instead of an error. Every other error is raised as it was."""
    try:
        return await work
    except Exception as error:
        if not _unavailable(error):
            raise
        return _unavailable_notice(state, fn, args, kwargs, error)


def refuse_auto_setters() -> None:
    """Fail closed when Reflex would create ``set_<var>`` handlers (REFLEX_STATE_AUTO_SETTERS)."""
    if get_state_auto_setters():
        raise RuntimeError(
            "State auto-setters are on: every state var would be settable from the browser. "
            "Unset REFLEX_STATE_AUTO_SETTERS."
        )


refuse_auto_setters()

# "State.handler" -> why it may run without a signed-in user. Keep this list short.
PUBLIC_HANDLERS: dict[str, str] = {}


def public(reason: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a handler as callable without a session; the reason is kept for review."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        async def limited(self: rx.State, *args: Any, **kwargs: Any) -> Any:
            if (refusal := await _over_allowance(self, fn.__qualname__)) is not None:
                return refusal
            if (call := _fitted(fn, args, kwargs)) is None:
                return None  # arguments no page sends (unknown or missing): nothing to do

            async def run() -> Any:
                result = fn(self, *call[0], **call[1])
                return await result if asyncio.iscoroutine(result) else result

            return await calmly(self, fn, args, kwargs, run())

        PUBLIC_HANDLERS[fn.__qualname__] = reason
        limited.__kj_public__ = reason  # type: ignore[attr-defined]
        return limited

    return mark


def current_actor() -> Actor:
    actor = _ACTOR.get()
    if actor is None:  # only reachable if a guarded handler's body escaped its guard
        raise RuntimeError("no authorized actor in this context")
    return actor


def _resolve(cookie_header: str, ip: str) -> Actor | None:
    token = sessions.token_from_cookie_header(cookie_header)
    if token is None:
        return None
    with unit_of_work() as session:
        return sessions.resolve_session(session, token=token, ip=ip)


def _audit_role_denial(actor: Actor, target: str) -> None:
    with unit_of_work() as session:
        audit.record(
            session,
            action="access_denied",
            outcome="denied",
            actor_id=actor.user_id,
            target=target,
            ip=actor.ip,
        )


async def actor_from_state(state: rx.State) -> Actor | None:
    router = state.router
    return await asyncio.to_thread(
        _resolve, router.headers.cookie or "", router.session.client_ip or ""
    )


def _allowance_key(state: rx.State) -> tuple[str, str]:
    """Whose allowance an event spends: the auth session, else the Reflex tab (signed out)."""
    router = state.router
    cookie = router.headers.cookie or ""
    token = sessions.token_from_cookie_header(cookie)
    if token:
        return f"session:{token}", cookie
    return f"tab:{router.session.client_token or router.session.client_ip or ''}", ""


def _audit_flood(cookie: str, ip: str, target: str) -> None:
    actor = _resolve(cookie, ip) if cookie else None
    with unit_of_work() as session:
        audit.record(
            session,
            action="rate_limited",
            outcome="denied",
            actor_id=actor.user_id if actor else None,
            target=target,
            ip=ip,
        )


async def _over_allowance(state: rx.State, target: str) -> Any:
    """None when the event may run; otherwise the calm toast to return instead."""
    limiter = ratelimit.shared_limiter()
    key, cookie = _allowance_key(state)
    if not await limiter.ahit("event", key, ratelimit.event_rate()):
        return None
    if not await limiter.ahit("event-audit", key, ratelimit.audit_rate()):
        ip = state.router.session.client_ip or ""
        await asyncio.to_thread(_audit_flood, cookie, ip, target)
    return rx.toast.info(RATE_LIMITED, id=RATE_LIMITED_TOAST)


_SURROGATES = re.compile("[\ud800-\udfff]")


def _scrub(value: Any) -> Any:
    """Lone surrogates (valid in the socket's JSON, not in UTF-8) become U+FFFD, at any depth."""
    if isinstance(value, str):
        return _SURROGATES.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _fitted(fn: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[list, dict] | None:
    """The event's arguments, text made sendable; None when they do not fit the handler."""
    try:
        inspect.signature(fn).bind(None, *args, **kwargs)
    except TypeError:
        return None
    return [_scrub(a) for a in args], {k: _scrub(v) for k, v in kwargs.items()}


async def _reset(state: rx.State) -> None:
    """Forget what the state holds; a background handler's state changes only inside its lock."""
    if isinstance(state, StateProxy):
        async with state:
            state.reset()
    else:
        state.reset()


def authorized(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require a live session (and one of ``roles`` when given) before the handler runs."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        async def guarded(self: rx.State, *args: Any, **kwargs: Any) -> Any:
            if (refusal := await _over_allowance(self, fn.__qualname__)) is not None:
                return refusal
            work = _run_authorized(self, fn, roles, args, kwargs)
            return await calmly(self, fn, args, kwargs, work)

        setattr(guarded, GUARD_ATTR, tuple(roles))
        return guarded

    return decorate


async def _run_authorized(
    state: rx.State, fn: Callable[..., Any], roles: tuple[Role, ...], args: tuple, kwargs: dict
) -> Any:
    actor = await actor_from_state(state)
    if actor is None:
        await _reset(state)
        return rx.redirect(SIGNIN, replace=True)
    if roles and actor.role not in roles:
        await _reset(state)
        await asyncio.to_thread(_audit_role_denial, actor, fn.__qualname__)
        return rx.redirect(HOME_BY_ROLE[str(actor.role)], replace=True)
    if (call := _fitted(fn, args, kwargs)) is None:
        return None  # arguments no page sends (unknown or missing): nothing to do
    token = _ACTOR.set(actor)
    try:
        return await fn(state, *call[0], **call[1])
    finally:
        _ACTOR.reset(token)


async def call_service(work: Callable[..., T], **kwargs: Any) -> T:
    """Run ``work(session=..., actor=..., **kwargs)`` in a unit of work, off the event loop."""
    actor = current_actor()

    def run() -> T:
        with unit_of_work() as session:
            return work(session=session, actor=actor, **kwargs)

    return await asyncio.to_thread(run)
