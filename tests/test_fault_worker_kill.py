"""Fault test (issue 8, part 5): `kill -9` of one backend worker while clients submit check-ins
loses no acknowledged check-in and no alert, and the clients on that worker reconnect and finish.

The real app server in scaled mode (PostgreSQL + Redis, three Granian workers, the single-port
production server as tests/browser start it), driven by benchmarks/load_test.py: 30 clients
sign in and submit the daily check-in over Reflex's event socket, three of them also send a
day-after symptom report with a worrying answer (an urgent alert), and a clinician has the
caseload open. A few seconds into that, one worker process is killed with SIGKILL.

Afterwards, in the database: every client whose submitting tap was answered has her check-in,
every answered worrying report has its alert, and every client finished (a tab cut off by the
kill reconnects with the same Reflex token, its state in Redis, and taps again).

The server survives it because Granian respawns a worker that died (kapjourney/serving.py;
without that, Reflex's Granian shuts the whole server down and this test fails).

Runs only where PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) answer; skipped, saying
which did not, otherwise. Takes about 1-2 minutes, most of it building and starting the server.
"""

from __future__ import annotations

import time

import pytest

from benchmarks import load_test
from benchmarks.load_server import postgres_reachable, redis_reachable

CLIENTS, REPORTS = 30, 3


@pytest.fixture(scope="module")
def services() -> None:
    reason = postgres_reachable() or redis_reachable()
    if reason:
        pytest.skip(f"{reason}: the worker-kill fault test needs PostgreSQL and Redis")


# The bound is on the test's own work; waiting for another run's browser tests to release
# /tmp/kj-browser.lock (shared .web) comes on top.
@pytest.mark.timeout(600)
def test_killing_a_worker_loses_no_acknowledged_checkin_or_alert(services):
    started = time.monotonic()
    [result] = load_test.main(
        [
            "--mode=scaled",
            "--workers=3",
            f"-n={CLIENTS}",
            f"--reports={REPORTS}",
            "--kill-worker",
            "--kill-after=3",
            "--ramp=6",
            "--think=0.6",
        ]
    )
    took = time.monotonic() - started - result.lock_wait_seconds
    assert result.workers == 3, "scaled mode did not start three worker processes"
    assert result.killed_worker, "no worker was killed"
    assert result.server_alive, (
        "the app server stopped answering after one worker was killed: is Granian still told "
        "to respawn failed workers (kapjourney/serving.py, called from rxconfig.py)?"
    )
    assert result.disconnected_tabs >= 1, "no tab was on the killed worker: nothing was tested"
    assert result.acknowledged_missing == 0, "an acknowledged check-in was lost"
    assert result.reports_acknowledged == REPORTS
    assert result.alerts_found == REPORTS, "an answered worrying report has no alert"
    assert result.submitted_rows == CLIENTS, "a client on the killed worker did not finish"
    assert result.errors == 0, result.error_samples
    assert took < 180, f"the fault test took {took:.0f} s (budget 180 s)"
