"""Reminder fan-out benchmark: N due reminders, each to one device on the loopback test push
service (VAPID checked, payload decrypted), sent by 1 and by 2 workers on a SQLite database.

    .venv/bin/python tools/bench_push.py 500

Prints reminders per second; compare ratios (the push service shares the same cores)."""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import SQLModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kapjourney import db  # noqa: E402
from kapjourney.clock import now  # noqa: E402
from kapjourney.domain.enums import Role  # noqa: E402
from kapjourney.domain.models import Clinic, ReminderPreference, User  # noqa: E402
from kapjourney.domain.reminders import CHECKIN_DUE  # noqa: E402
from kapjourney.domain.schemas import Actor  # noqa: E402
from kapjourney.notifications import worker  # noqa: E402
from kapjourney.notifications.vapid import load_keys  # noqa: E402
from kapjourney.services import outbox, reminders  # noqa: E402
from kapjourney.settings import Settings, ensure_local_secrets  # noqa: E402
from tests.push_service import make_subscription, running_push_service  # noqa: E402


def arrange(engine, service, count: int, tag: str) -> None:
    at = now()
    with db.session_scope(engine) as s:
        clinic = Clinic(name="Bench", slug=f"bench-{tag}")
        s.add(clinic)
        s.flush()
        for i in range(count):
            user = User(
                clinic_id=clinic.id,
                role=Role.CLIENT,
                email=f"b{tag}{i}@bench.example",
                display_name=f"B {i}",
                timezone="UTC",
            )
            s.add(user)
            s.flush()
            s.add(ReminderPreference(user_id=user.id, quiet_start="00:00", quiet_end="00:00"))
            sub = make_subscription(service)
            reminders.save_device(
                session=s,
                actor=Actor.from_user(user),
                device=reminders.NewDevice(
                    sub["endpoint"], sub["keys"]["p256dh"], sub["keys"]["auth"]
                ),
            )
            outbox.enqueue(
                s,
                user_id=user.id,
                kind=CHECKIN_DUE,
                slot=at.date().isoformat(),
                due_at=at - timedelta(minutes=1),
                expires_at=at + timedelta(hours=6),
                url="/checkin",
            )


def run(count: int, workers: int) -> float:
    data = Path(tempfile.mkdtemp()) / "data"
    first = Settings(data_dir=data)
    ensure_local_secrets(first)
    key = load_keys(first).public_key
    with running_push_service(expected_key=key) as service:
        settings = Settings(data_dir=data, push_allowed=service.origin)
        engine = db.make_engine(settings.db_url)
        SQLModel.metadata.create_all(engine)
        arrange(engine, service, count, str(workers))
        dispatchers = [worker.make_dispatcher(settings) for _ in range(workers)]
        for d in dispatchers:
            d.engine = engine
        started = time.perf_counter()
        threads = [
            threading.Thread(target=d.run_once, kwargs={"limit": count}) for d in dispatchers
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        delivered = len(service.deliveries)
        assert delivered == count, (delivered, count)
        return count / elapsed


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    for w in (1, 2):
        print(f"{n} reminders, {w} worker(s): {run(n, w):.0f} reminders/s")  # noqa: T201
