"""Push fan-out (issue 8, item 3) at test scale: due reminders sent by the real dispatcher and
WebPushTransport to the loopback push service (VAPID checked, every payload decrypted), which
answers after 100 ms. Senders in parallel wait those round trips out together: each reminder is
still handed off exactly once, and the time per reminder falls well below one round trip.

The full-scale figure (10,000 reminders within 60 s) is benchmarks/push_fanout.py's.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlmodel import func, select

from benchmarks.push_fanout import fan_out, seed
from kapjourney import db
from kapjourney.domain.models import DeliveryAttempt, Notification
from tests.push_service import running_push_service

LATENCY = 0.1


def _counts(engine) -> tuple[int, int]:
    with db.session_scope(engine) as s:
        sent = s.exec(select(func.count()).where(Notification.status == "sent")).one()
        attempts = s.exec(select(func.count()).select_from(DeliveryAttempt)).one()
    return sent, attempts


def _run(engine, n: int, concurrency: int) -> float:
    """Seconds per reminder for n due reminders, one phone each, sent `concurrency` at once."""
    before = _counts(engine)
    with running_push_service() as service:
        seed(engine, [service.register(f"slow:{LATENCY}") for _ in range(n)], datetime.now(UTC))
        seconds, sent = fan_out(engine, service, service.vapid, concurrency=concurrency, batch=50)
        topics = Counter(d.topic for d in service.deliveries)
        refused = [h for h in service.hits if h.status != 201]
    assert sent == n and len(topics) == n and set(topics.values()) == {1}, topics.most_common(3)
    assert refused == []
    after = _counts(engine)
    assert (after[0] - before[0], after[1] - before[1]) == (n, n)  # all sent, one attempt each
    return seconds / n


def test_pooled_senders_hand_off_each_reminder_once_and_overlap_the_round_trips(engine):
    one_at_a_time = _run(engine, 12, concurrency=1)
    assert one_at_a_time >= LATENCY  # each send really waited for the service
    pooled = _run(engine, 80, concurrency=16)
    # 16 at once could approach 1/16 of a round trip per reminder; a loaded CI machine's CPU
    # time per reminder (encryption, four short transactions) keeps it above that.
    assert pooled < one_at_a_time / 2, (pooled, one_at_a_time)
