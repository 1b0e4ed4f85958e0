"""The reminder worker: plan what is due, then deliver it. One tick every
``KJ_NOTIFY_INTERVAL_SECONDS``: escalate overdue alerts, plan, send, then roll the caseload
dashboard's summary rows over to their clients' new day (a few short transactions per tick).

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
from kapjourney.services import dashboard, inbox
from kapjourney.settings import Settings, get_settings

log = logging.getLogger(__name__)

BATCH = 500  # reminders sent per tick at most; a full batch starts the next tick at once
ROLLOVER_PER_TICK = 100  # summary rows recomputed per tick at most...
ROLLOVER_BATCH = 10  # ...in transactions of this many, so no lock is held for long (SQLite: ~50 ms)


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
    rolled_over: int = 0  # summary rows recomputed for their client's new day


def tick(dispatcher: Dispatcher, at: datetime | None = None) -> Tick:
    with db.session_scope(dispatcher.engine) as session:
        escalated = inbox.escalate_due(session, at or now())  # before sending: same tick
        planned = planner.plan(session, at or now())
    stats = dispatcher.run_once(at, limit=BATCH)
    rolled = roll_over(dispatcher.engine, at or now())  # last: reminders come first
    return Tick(planned=planned, stats=stats, escalated=escalated, rolled_over=rolled)


def roll_over(engine=None, at: datetime | None = None) -> int:
    """Recompute up to ``ROLLOVER_PER_TICK`` dashboard summary rows left from an earlier local
    day, ``ROLLOVER_BATCH`` per transaction; returns how many."""
    done = 0
    while done < ROLLOVER_PER_TICK:
        batch = min(ROLLOVER_BATCH, ROLLOVER_PER_TICK - done)
        with db.session_scope(engine) as session:
            made = dashboard.refresh_stale_rows(session, at, limit=batch)
        done += made
        if made < batch:  # none left, or other workers are on them
            break
    return done


def make_dispatcher(settings: Settings | None = None) -> Dispatcher:
    settings = settings or get_settings()
    from datetime import timedelta

    return Dispatcher(
        build_transport(settings),
        lease=timedelta(seconds=settings.notify_lease_seconds),
        max_attempts=settings.notify_max_attempts,
        concurrency=settings.notify_concurrency,
    )


async def run_forever(settings: Settings | None = None, *, once: bool = False) -> None:
    settings = settings or get_settings()
    # urllib3's debug lines carry the request path, which is part of a push endpoint (a bearer
    # capability): keep that logger quiet whatever the root level.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    dispatcher = make_dispatcher(settings)
    log.info("reminder worker %s started", dispatcher.worker)
    while True:
        busy = False
        try:
            result = await asyncio.to_thread(tick, dispatcher)
            busy = result.stats.claimed >= BATCH
            if result.planned or result.stats.claimed or result.escalated or result.rolled_over:
                log.info(
                    "reminders escalated=%s planned=%s claimed=%s sent=%s skipped=%s failed=%s "
                    "retried=%s summaries_rolled_over=%s",
                    result.escalated,
                    result.planned,
                    result.stats.claimed,
                    result.stats.sent,
                    result.stats.skipped,
                    result.stats.failed,
                    result.stats.retried,
                    result.rolled_over,
                )
        except Exception:  # a bad tick must not stop reminders for good
            log.exception("reminder tick failed; trying again next tick")
        if once:
            return
        if busy:  # a full batch was sent: more are likely due, so go on without waiting
            await asyncio.sleep(0)
            continue
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
