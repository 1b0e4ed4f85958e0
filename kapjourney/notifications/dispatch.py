"""Delivery: claim a due reminder, check it is still wanted and outside quiet hours, send it to
each of the person's devices, and record every attempt and its fate.

At-least-once: a worker that dies mid-send leaves its row ``sending`` until the lease runs out,
then another worker re-sends it, but only to the devices that have not yet accepted it. The
push ``Topic`` is derived from the row's opaque id, so a duplicate still queued at the push
service replaces the first instead of ringing twice.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import random
import secrets
import socket
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kapjourney import db
from kapjourney.clock import as_utc, now
from kapjourney.domain import reminders as r
from kapjourney.domain.models import DeliveryAttempt, Notification, PushSubscription, User
from kapjourney.notifications import messages, planner
from kapjourney.services import outbox

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=30)
MIN_TTL = 60


class SendResultLike(Protocol):
    outcome: str
    status_code: int | None
    retry_after: float | None
    permanent: bool


class Transport(Protocol):
    def send(
        self, target, payload: dict, *, ttl: int, urgency: str, topic: str | None
    ) -> SendResultLike: ...


@dataclass
class Stats:
    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    attempts: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, other: Stats) -> None:
        for name in ("claimed", "sent", "skipped", "failed", "retried", "attempts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for outcome, count in other.outcomes.items():
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + count


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def topic_for(public_id: str) -> str:
    """An opaque RFC 8030 topic (<= 32 base64url characters) for one reminder."""
    digest = hashlib.sha256(public_id.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")[:22]


def backoff(attempt: int) -> timedelta:
    """30 s, 60 s, 120 s ... capped at 30 min, with +-20 % jitter so retries do not align."""
    delay = min(BACKOFF_BASE * (2 ** max(attempt - 1, 0)), BACKOFF_CAP)
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not security)


class Dispatcher:
    def __init__(
        self,
        transport: Transport,
        *,
        engine: Engine | None = None,
        worker: str | None = None,
        lease: timedelta = timedelta(seconds=120),
        max_attempts: int = 5,
        concurrency: int = 1,
    ) -> None:
        self.transport = transport
        self.engine = engine
        self.worker = worker or worker_id()
        self.lease = lease
        self.max_attempts = max_attempts
        self.concurrency = max(1, concurrency)

    def run_once(self, at: datetime | None = None, *, limit: int = 500) -> Stats:
        """Deliver everything due now (up to ``limit`` reminders).

        With ``concurrency`` above 1 this thread claims and a pool of that many threads
        delivers, each reminder in its own transactions, so a push service's latency is waited
        out in parallel. Each row is still claimed by one conditional update and settled only by
        the worker that holds it, exactly as with one thread.
        """
        if self.concurrency > 1:
            return self._run_pooled(at, limit)
        stats = Stats()
        for _ in range(limit):
            at_now = at or now()
            with db.session_scope(self.engine) as session:
                rows = outbox.claim(session, at=at_now, worker=self.worker, lease=self.lease)
                if not rows:
                    break
                stats.claimed += 1
                self._deliver(session, rows[0], at_now, stats)
        return stats

    def _run_pooled(self, at: datetime | None, limit: int) -> Stats:
        """One coordinating thread does the database work in few transactions: it claims a pool's
        worth of reminders and checks them (one transaction), and it writes down the results of
        every send that has finished (one transaction for all of them). The pool's threads only
        encrypt and send. A reminder for several phones is delivered phone by phone in a thread
        of its own, each attempt written before the next phone is tried."""
        stats = Stats()
        claimed = 0
        exhausted = False
        running: dict[Future, _Plan | None] = {}
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="push-send")
        try:
            while True:
                room = min(self.concurrency, limit - claimed)
                if room > 0 and not exhausted and len(running) <= self.concurrency:
                    taken, plans, several = self._claim_and_plan(at, room, stats)
                    claimed += taken
                    exhausted = taken < room
                    for plan in plans:
                        running[pool.submit(self._send, plan, plan.pending[0])] = plan
                    for notification_id in several:
                        running[pool.submit(self._deliver_claimed, notification_id, at)] = None
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                sent: list[tuple[_Plan, _Sent]] = []
                for future in done:
                    plan = running.pop(future)
                    if plan is None:
                        stats.add(future.result())
                    else:
                        sent.append((plan, future.result()))
                if sent:
                    with db.session_scope(self.engine) as session:
                        for plan, attempt in sent:
                            self._record(session, plan.row, plan.pending[0], attempt)
                            stats.attempts += 1
                            self._conclude(session, plan, [attempt.result], stats, commit=False)
        except BaseException:
            # Nothing more goes out that this worker could not write down: the rows it holds
            # wait for their lease to run out, and another worker sends them.
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return stats

    def _claim_and_plan(
        self, at: datetime | None, room: int, stats: Stats
    ) -> tuple[int, list[_Plan], list[int]]:
        """Claim up to ``room`` reminders; settle those with nothing to send; plan the rest.
        Returns how many were claimed, the plans for one phone and the ids of reminders for
        several phones."""
        plans: list[_Plan] = []
        several: list[int] = []
        with db.session_scope(self.engine) as session:
            rows = outbox.claim(
                session, at=at or now(), worker=self.worker, lease=self.lease, limit=room
            )
            for row in rows:
                plan = self._plan(session, row, at or now(), stats, commit=False)
                if plan is not None and len(plan.pending) > 1:
                    several.append(row.id or 0)
                    continue
                stats.claimed += 1
                if plan is not None and not plan.pending:  # every phone already took it
                    self._conclude(session, plan, [], stats, commit=False)
                elif plan is not None:
                    plans.append(plan)
        return len(rows), plans, several

    def _deliver_claimed(self, notification_id: int, at: datetime | None) -> Stats:
        stats = Stats()
        with db.session_scope(self.engine) as session:
            row = session.get(Notification, notification_id)
            if row is not None:
                stats.claimed = 1
                self._deliver(session, row, at or now(), stats)
        return stats

    # -- one reminder ------------------------------------------------------------------------

    def _settle(self, session: Session, row: Notification, stats: Stats, **kw) -> None:
        outbox.finish(session, row, worker=self.worker, **kw)
        status = kw["status"]
        stats.outcomes[kw["outcome"]] = stats.outcomes.get(kw["outcome"], 0) + 1
        if status == outbox.SENT:
            stats.sent += 1
        elif status == outbox.SKIPPED:
            stats.skipped += 1
        elif status == outbox.FAILED:
            stats.failed += 1
        else:
            stats.retried += 1

    def _deliver(self, session: Session, row: Notification, at: datetime, stats: Stats) -> None:
        plan = self._plan(session, row, at, stats)
        if plan is None:
            return
        # End the read transaction: a send may take its whole timeout, and on SQLite an open
        # transaction (BEGIN IMMEDIATE) holds the one write lock the rest of the app needs.
        session.commit()
        results = []
        for device in plan.pending:
            attempt = self._send(plan, device)
            self._record(session, row, device, attempt)
            session.commit()  # written before the next phone is tried
            results.append(attempt.result)
            stats.attempts += 1
        self._conclude(session, plan, results, stats)

    def _plan(
        self, session: Session, row: Notification, at: datetime, stats: Stats, commit: bool = True
    ) -> _Plan | None:
        """Settle a reminder that has nothing to send (``None``), or say what to send where."""
        if outbox.expired(row, at):
            self._settle(
                session, row, stats, status=outbox.SKIPPED, outcome="expired", at=at, commit=commit
            )
            return None
        if not planner.still_wanted(session, row, at):
            self._settle(
                session,
                row,
                stats,
                status=outbox.SKIPPED,
                outcome="not_needed",
                at=at,
                commit=commit,
            )
            return None
        user = session.get(User, row.user_id)
        if row.kind not in r.QUIET_EXEMPT and user is not None:
            pref = planner.preference(session, user.id or 0)
            try:
                zone = ZoneInfo(user.timezone)
            except (KeyError, ValueError):
                zone = ZoneInfo("UTC")
            release = r.release_from_quiet(at, zone, planner.quiet_of(pref))
            if release > at:
                if release >= as_utc(row.expires_at):
                    self._settle(
                        session,
                        row,
                        stats,
                        status=outbox.SKIPPED,
                        outcome="quiet_hours",
                        at=at,
                        commit=commit,
                    )
                else:
                    self._settle(
                        session,
                        row,
                        stats,
                        status=outbox.PENDING,
                        outcome="quiet_hours",
                        at=at,
                        retry_at=release,
                        count_attempt=False,
                        commit=commit,
                    )
                return None
        devices = session.exec(
            select(PushSubscription).where(
                PushSubscription.user_id == row.user_id, PushSubscription.status == "active"
            )
        ).all()
        accepted = set(
            session.exec(
                select(DeliveryAttempt.subscription_id).where(
                    DeliveryAttempt.notification_id == row.id, DeliveryAttempt.outcome == "sent"
                )
            ).all()
        )
        if not devices and not accepted:
            self._settle(
                session,
                row,
                stats,
                status=outbox.SKIPPED,
                outcome="no_device",
                at=at,
                commit=commit,
            )
            return None
        message = messages.MESSAGES[row.kind]
        ttl = int(min(message.max_ttl, (as_utc(row.expires_at) - at).total_seconds()))
        return _Plan(
            row=row,
            at=at,
            pending=[d for d in devices if d.id not in accepted],
            accepted=bool(accepted),
            payload=messages.payload(row.kind, public_id=row.public_id, url=row.url),
            ttl=max(ttl, MIN_TTL),
            urgency=message.urgency,
        )

    def _conclude(
        self, session: Session, plan: _Plan, results: list, stats: Stats, commit: bool = True
    ) -> None:
        """Settle a reminder after its sends: sent, failed for good, or tried again later."""
        row, at = plan.row, plan.at
        settle = {"at": at, "commit": commit}
        if plan.accepted or any(res.outcome == "sent" for res in results):
            self._settle(session, row, stats, status=outbox.SENT, outcome="sent", **settle)
            return
        if results and all(res.permanent for res in results):
            outcome = "gone" if all(res.outcome == "gone" for res in results) else "undeliverable"
            self._settle(session, row, stats, status=outbox.FAILED, outcome=outcome, **settle)
            return
        attempt = row.attempts + 1
        waits = [res.retry_after for res in results if res.retry_after]
        retry_at = at + max(backoff(attempt), timedelta(seconds=max(waits, default=0)))
        if attempt >= self.max_attempts or retry_at >= as_utc(row.expires_at):
            self._settle(session, row, stats, status=outbox.FAILED, outcome="gave_up", **settle)
            return
        transient = next((res.outcome for res in results if not res.permanent), "error")
        self._settle(
            session,
            row,
            stats,
            status=outbox.PENDING,
            outcome=transient,
            retry_at=retry_at,
            **settle,
        )

    def _send(self, plan: _Plan, device: PushSubscription) -> _Sent:
        """Encrypt and send to one phone; no database work (the pool's threads run this)."""
        from kapjourney.notifications.transport import Target

        started = time.monotonic()
        result = self.transport.send(
            Target(endpoint=device.endpoint, p256dh=device.p256dh, auth=device.auth),
            plan.payload,
            ttl=plan.ttl,
            urgency=plan.urgency,
            topic=topic_for(plan.row.public_id),
        )
        return _Sent(result, int((time.monotonic() - started) * 1000), now())

    def _record(
        self, session: Session, row: Notification, device: PushSubscription, attempt: _Sent
    ) -> None:
        """Write down one attempt and what it says about the phone (the caller commits)."""
        result, at = attempt.result, attempt.at
        device_id = device.id or 0
        session.add(
            DeliveryAttempt(
                notification_id=row.id or 0,
                subscription_id=device_id,
                attempted_at=at,
                outcome=result.outcome[:16],
                status_code=result.status_code,
                retry_after=int(result.retry_after) if result.retry_after else None,
                duration_ms=attempt.elapsed_ms,
                worker=self.worker[:64],
            )
        )
        if device not in session:  # read afresh: the person may have changed it meanwhile
            device = session.get(PushSubscription, device_id)
        if device is not None:
            self._note_outcome(session, device, result.outcome, at)
        # Every attempt is logged: kind, outcome and status; never the endpoint or the payload.
        log.info(
            "push attempt notification=%s device=%s kind=%s outcome=%s status=%s ms=%s",
            row.id,
            device_id,
            row.kind,
            result.outcome,
            result.status_code,
            attempt.elapsed_ms,
        )

    @staticmethod
    def _note_outcome(session: Session, device: PushSubscription, outcome: str, at) -> None:
        device.last_outcome = outcome[:16]
        if outcome == "sent":
            device.last_success_at = at
        else:
            device.last_failure_at = at
        if outcome == "gone":
            device.status, device.disabled_at = "expired", at
        elif outcome == "refused":
            device.status, device.disabled_at = "refused", at
        session.add(device)


@dataclass
class _Plan:
    """What one claimed reminder is to send: its row, the phones that have not taken it yet."""

    row: Notification
    at: datetime
    pending: list[PushSubscription]
    accepted: bool
    payload: dict
    ttl: int
    urgency: str


@dataclass
class _Sent:
    result: SendResultLike
    elapsed_ms: int
    at: datetime
