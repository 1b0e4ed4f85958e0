"""Push fan-out benchmark (issue 8, item 3; a script, not a test): N reminders due at once, one
phone each, sent by the real dispatcher and WebPushTransport (pywebpush: aes128gcm encryption
and a VAPID signature per message) to the loopback test push service, which answers each after
an injected latency, checks every VAPID token and decrypts every payload. The service runs in a
process of its own, so its checks do not share the sender's interpreter.

Budget: 10,000 reminders with 100 ms latency all handed off within 60 s, each exactly once.

    .venv/bin/python benchmarks/push_fanout.py                     # 10,000, SQLite, 16 at once
    .venv/bin/python benchmarks/push_fanout.py -n 2000 --concurrency 1 --concurrency 16
    .venv/bin/python benchmarks/push_fanout.py --db postgresql+psycopg://postgres@127.0.0.1/test

With PostgreSQL the URL names a server to connect to; a scratch database is created there and
dropped afterwards.
"""

from __future__ import annotations

import argparse
import multiprocessing
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from py_vapid import Vapid  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from benchmarks.support import bulk, say, scratch_database  # noqa: E402
from kapjourney import db  # noqa: E402
from kapjourney.domain import reminders as r  # noqa: E402
from kapjourney.domain.enums import Role  # noqa: E402
from kapjourney.domain.models import (  # noqa: E402
    ClientSummary,
    Clinic,
    DeliveryAttempt,
    Notification,
    PushSubscription,
    User,
)
from kapjourney.notifications.dispatch import Dispatcher  # noqa: E402
from kapjourney.notifications.endpoints import Allowlist  # noqa: E402
from kapjourney.notifications.transport import WebPushTransport  # noqa: E402
from kapjourney.settings import get_settings  # noqa: E402
from tests.push_service import new_vapid, public_key_b64, running_push_service  # noqa: E402

SUBJECT = "mailto:operations@clinic.example"


@dataclass
class Result:
    reminders: int
    concurrency: int
    seconds: float
    sent: int
    attempts: int
    delivered: int  # messages the push service accepted, decrypted
    duplicates: int  # reminders the push service received more than once
    refused: int  # requests the push service refused (bad token, cannot decrypt...)

    @property
    def per_second(self) -> float:
        return self.reminders / self.seconds if self.seconds else 0.0


def noon_zone(at: datetime) -> str:
    """A fixed-offset zone where it is about midday now, so no reminder waits for quiet hours
    to end (the default quiet hours are 22:00-08:00)."""
    offset = max(-12, min(14, 12 - at.hour))  # hours east of UTC
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-3 = UTC+3


def seed(engine, subscriptions: list[dict], at: datetime) -> None:
    """One client, one phone and one due check-in reminder per subscription. The phones have
    had reminders before (a success yesterday), as in a running clinic."""
    zone = noon_zone(at)
    with db.session_scope(engine) as s:
        clinic = Clinic(name="Fan-out clinic", slug=f"fanout-{secrets.token_hex(3)}", timezone=zone)
        s.add(clinic)
        s.flush()
        tag = clinic.slug
        bulk(
            s,
            User,
            [
                {"clinic_id": clinic.id, "role": Role.CLIENT, "email": f"p{i}@{tag}.example",
                 "display_name": f"Client {i}", "timezone": zone, "created_at": at,
                 "is_active": True}
                for i in range(len(subscriptions))
            ],
        )  # fmt: skip
        ids = list(
            s.execute(
                select(User.id).where(User.clinic_id == clinic.id).order_by(User.id)
            ).scalars()
        )
        bulk(
            s,
            PushSubscription,
            [
                {"user_id": uid, "endpoint": sub["endpoint"],
                 "endpoint_hash": secrets.token_hex(32),
                 "p256dh": sub["keys"]["p256dh"], "auth": sub["keys"]["auth"],
                 "device": "Chrome on Android", "push_host": "127.0.0.1", "status": "active",
                 "created_at": at - timedelta(days=30), "seen_at": at,
                 "last_success_at": at - timedelta(days=1), "last_outcome": "sent"}
                for uid, sub in zip(ids, subscriptions, strict=True)
            ],
        )  # fmt: skip
        # Their dashboard rows as the app keeps them (only the reminder word matters here).
        bulk(
            s,
            ClientSummary,
            [
                {"client_id": uid, "clinic_id": clinic.id, "computed_for": at.date(),
                 "computed_at": at, "reminders": "reaching"}
                for uid in ids
            ],
        )  # fmt: skip
        day = at.date().isoformat()
        bulk(
            s,
            Notification,
            [
                {"public_id": secrets.token_hex(16), "user_id": uid, "kind": r.CHECKIN_DUE,
                 "slot": day, "url": "/checkin", "due_at": at - timedelta(minutes=1),
                 "expires_at": at + timedelta(hours=2), "status": "pending", "outcome": "",
                 "attempts": 0, "claimed_by": "", "created_at": at}
                for uid in ids
            ],
        )  # fmt: skip


def fan_out(engine, service, vapid, *, concurrency: int, batch: int = 500) -> tuple[float, int]:
    """Send everything due, batch by batch as the worker's ticks do; returns (seconds, sent)."""
    transport = WebPushTransport(
        vapid_private_key=vapid,
        subject=SUBJECT,
        allowlist=Allowlist.parse(service.origin),
        resolve_dns=False,
    )
    dispatcher = Dispatcher(transport, engine=engine, concurrency=concurrency)
    sent = 0
    started = time.perf_counter()
    try:
        while True:
            stats = dispatcher.run_once(limit=batch)
            sent += stats.sent
            if stats.claimed < batch:
                break
    finally:
        transport.close()
    return time.perf_counter() - started, sent


def outcome(engine, reminders: int, concurrency: int, seconds: float, sent: int, report) -> Result:
    with db.session_scope(engine) as s:
        attempts = s.execute(select(func.count()).select_from(DeliveryAttempt)).scalar_one()
    topics = Counter(report["topics"])
    return Result(
        reminders=reminders,
        concurrency=concurrency,
        seconds=seconds,
        sent=sent,
        attempts=attempts,
        delivered=sum(topics.values()),
        duplicates=sum(1 for count in topics.values() if count > 1),
        refused=report["refused"],
    )


# -- the push service, in its own process ---------------------------------------------------------


def _serve(conn, expected_key: str, n: int, latency: float) -> None:
    with running_push_service(expected_key) as service:
        conn.send((service.origin, [service.register(f"slow:{latency}") for _ in range(n)]))
        conn.recv()  # "report"
        conn.send(
            {
                "topics": [d.topic for d in list(service.deliveries)],
                "refused": sum(1 for h in list(service.hits) if h.status not in (201, 307)),
            }
        )
        conn.recv()  # "stop"


class RemotePushService:
    """The loopback test push service (tests/push_service.py) in a child process."""

    def __init__(self, expected_key: str, n: int, latency: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, expected_key, n, latency), daemon=True
        )
        self._process.start()
        self.origin, self.subscriptions = self._conn.recv()

    def report(self) -> dict:
        self._conn.send("report")
        return self._conn.recv()

    def stop(self) -> None:
        self._conn.send("stop")
        self._process.join(timeout=30)


def _worker(conn, url: str, origin: str, key_pem: bytes, concurrency: int, batch: int) -> None:
    """One backend worker's dispatcher, in a process of its own (scaled mode runs one per
    worker): waits for the start signal, sends until nothing is due, reports what it sent."""
    engine = db.make_engine(url)
    try:
        vapid = Vapid.from_pem(key_pem)  # the same key and token scheme as the parent
        conn.send("ready")
        conn.recv()  # "go"
        conn.send(fan_out(engine, _Origin(origin), vapid, concurrency=concurrency, batch=batch))
    finally:
        engine.dispose()


@dataclass
class _Origin:
    origin: str


def fan_out_in_workers(
    url: str, service, vapid, *, workers: int, concurrency: int, batch: int
) -> tuple[float, int]:
    """``workers`` dispatchers in parallel processes, racing for the same due reminders."""
    context = multiprocessing.get_context("spawn")
    key_pem = vapid.private_pem()
    links, processes = [], []
    for _ in range(workers):
        parent, child = context.Pipe()
        process = context.Process(
            target=_worker, args=(child, url, service.origin, key_pem, concurrency, batch)
        )
        process.start()
        links.append(parent)
        processes.append(process)
    for link in links:
        link.recv()  # "ready": imports done, engine made
    started = time.perf_counter()
    for link in links:
        link.send("go")
    sent = sum(link.recv()[1] for link in links)
    seconds = time.perf_counter() - started
    for process in processes:
        process.join(timeout=30)
    return seconds, sent


def run(url: str, n: int, latency: float, concurrency: int, batch: int, workers: int) -> Result:
    vapid = new_vapid()
    service = RemotePushService(public_key_b64(vapid), n, latency)
    engine = db.make_engine(url)
    try:
        seed(engine, service.subscriptions, datetime.now(UTC))
        if workers > 1:
            seconds, sent = fan_out_in_workers(
                url, service, vapid, workers=workers, concurrency=concurrency, batch=batch
            )
        else:
            seconds, sent = fan_out(engine, service, vapid, concurrency=concurrency, batch=batch)
        return outcome(engine, n, concurrency, seconds, sent, service.report())
    finally:
        engine.dispose()
        service.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="", help="postgresql+psycopg://... (default: SQLite)")
    parser.add_argument("-n", "--reminders", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.1, help="push service latency, s")
    parser.add_argument(
        "--concurrency", type=int, action="append", help="senders at once (repeatable)"
    )
    parser.add_argument("--batch", type=int, default=500, help="reminders per worker tick")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds allowed")
    parser.add_argument(
        "--workers", type=int, default=1, help="dispatcher processes (scaled mode: one a worker)"
    )
    args = parser.parse_args()
    failed = False
    for concurrency in args.concurrency or [get_settings().notify_concurrency]:
        with scratch_database(args.db) as url:
            result = run(url, args.reminders, args.latency, concurrency, args.batch, args.workers)
        once = result.delivered == result.reminders == result.sent and not result.duplicates
        within = result.seconds <= args.budget
        failed |= not (once and within)
        say(
            f"{result.reminders} reminders, {args.latency * 1000:.0f} ms push latency, "
            f"{args.workers} worker(s), {concurrency} at once each: "
            f"{result.seconds:.1f} s ({result.per_second:.0f}/s); "
            f"sent {result.sent}, delivered {result.delivered}, attempts {result.attempts}, "
            f"duplicates {result.duplicates}, refused {result.refused}; "
            f"each once: {'yes' if once else 'NO'}; "
            f"within {args.budget:.0f} s: {'yes' if within else 'NO'}"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
