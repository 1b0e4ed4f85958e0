"""The one authorization guard for Reflex event handlers.

Every handler on a page state is a public endpoint: any connected browser can call it with any
arguments. ``@authorized(...)`` resolves the actor from the HttpOnly session cookie on *every*
call (never from Reflex's client token), checks the role, and makes the actor available to the
handler through ``current_actor()``. Data-level checks (which client) happen in the services,
which raise ``AccessDenied``; ``call_service`` turns that into "not found" after it is audited.

A test enumerates every registered handler and fails when one carries neither this guard nor an
entry in ``PUBLIC_HANDLERS`` with a reason.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

import reflex as rx
from reflex.istate.proxy import StateProxy

from kapjourney.auth import sessions
from kapjourney.domain.enums import Role
from kapjourney.domain.schemas import Actor
from kapjourney.routes import HOME_BY_ROLE, SIGNIN
from kapjourney.services import audit
from kapjourney.services.uow import unit_of_work

_ACTOR: ContextVar[Actor | None] = ContextVar("kj_actor", default=None)
GUARD_ATTR = "__kj_roles__"
T = TypeVar("T")

# "State.handler" -> why it may run without a signed-in user. Keep this list short.
PUBLIC_HANDLERS: dict[str, str] = {}


def public(reason: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a handler as callable without a session; the reason is kept for review."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        PUBLIC_HANDLERS[fn.__qualname__] = reason
        fn.__kj_public__ = reason  # type: ignore[attr-defined]
        return fn

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
            actor = await actor_from_state(self)
            if actor is None:
                await _reset(self)
                return rx.redirect(SIGNIN, replace=True)
            if roles and actor.role not in roles:
                await _reset(self)
                await asyncio.to_thread(_audit_role_denial, actor, fn.__qualname__)
                return rx.redirect(HOME_BY_ROLE[str(actor.role)], replace=True)
            token = _ACTOR.set(actor)
            try:
                return await fn(self, *args, **kwargs)
            finally:
                _ACTOR.reset(token)

        setattr(guarded, GUARD_ATTR, tuple(roles))
        return guarded

    return decorate


async def call_service(work: Callable[..., T], **kwargs: Any) -> T:
    """Run ``work(session=..., actor=..., **kwargs)`` in a unit of work, off the event loop."""
    actor = current_actor()

    def run() -> T:
        with unit_of_work() as session:
            return work(session=session, actor=actor, **kwargs)

    return await asyncio.to_thread(run)
