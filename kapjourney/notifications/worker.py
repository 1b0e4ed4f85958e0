"""The reminder worker: plan what is due, then deliver it. One tick every
``KJ_NOTIFY_INTERVAL_SECONDS``.

It runs as a lifespan task in every app worker and, equally, as
``python -m kapjourney.cli notify-worker``; the outbox's unique keys and leased claims make any
number of them safe together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from kapjourney import db
from kapjourney.clock import now
from kapjourney.notifications import planner
from kapjourney.notifications.dispatch import Dispatcher, Stats
from kapjourney.services import inbox
from kapjourney.settings import Settings, get_settings

log = logging.getLogger(__name__)


def build_transport(settings: Settings):
    from kapjourney.notifications.endpoints import Allowlist
    from kapjourney.notifications.transport import WebPushTransport
    from kapjourney.notifications.vapid import load_keys

    return WebPushTransport(
        vapid_private_key=load_keys(settings).vapid,
        subject=settings.push_subject,
        allowlist=Allowlist.parse(settings.push_allowed),
    )


@dataclass
class Tick:
    planned: int
    stats: Stats
    escalated: int = 0


def tick(dispatcher: Dispatcher, at: datetime | None = None) -> Tick:
    with db.session_scope(dispatcher.engine) as session:
        escalated = inbox.escalate_due(session, at or now())  # before sending: same tick
        planned = planner.plan(session, at or now())
    return Tick(planned=planned, stats=dispatcher.run_once(at), escalated=escalated)


def make_dispatcher(settings: Settings | None = None) -> Dispatcher:
    settings = settings or get_settings()
    from datetime import timedelta

    return Dispatcher(
        build_transport(settings),
        lease=timedelta(seconds=settings.notify_lease_seconds),
        max_attempts=settings.notify_max_attempts,
    )


async def run_forever(settings: Settings | None = None, *, once: bool = False) -> None:
    settings = settings or get_settings()
    # urllib3's debug lines carry the request path, which is part of a push endpoint (a bearer
    # capability): keep that logger quiet whatever the root level.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    dispatcher = make_dispatcher(settings)
    log.info("reminder worker %s started", dispatcher.worker)
    while True:
        try:
            result = await asyncio.to_thread(tick, dispatcher)
            if result.planned or result.stats.claimed or result.escalated:
                log.info(
                    "reminders escalated=%s planned=%s claimed=%s sent=%s skipped=%s failed=%s "
                    "retried=%s",
                    result.escalated,
                    result.planned,
                    result.stats.claimed,
                    result.stats.sent,
                    result.stats.skipped,
                    result.stats.failed,
                    result.stats.retried,
                )
        except Exception:  # a bad tick must not stop reminders for good
            log.exception("reminder tick failed; trying again next tick")
        if once:
            return
        await asyncio.sleep(settings.notify_interval_seconds)


@contextlib.asynccontextmanager
async def lifespan_worker():
    """Reflex lifespan task: the worker runs beside the app, cancelled at shutdown."""
    settings = get_settings()
    task = None
    if settings.notify_in_app:
        task = asyncio.create_task(run_forever(settings))
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
