"""Websocket load test (issue 8, item 2; a script, not a test): N simulated clients sign in over
HTTP and submit the daily check-in over Reflex's real event socket while a clinician has the
caseload dashboard open, against the real app server in production mode.

    .venv/bin/python benchmarks/load_test.py --mode embedded -n 50 200
    .venv/bin/python benchmarks/load_test.py --mode scaled -n 50 200 500 --workers 3
    .venv/bin/python benchmarks/load_test.py --mode scaled -n 30 --reports 3 --kill-worker

Embedded: SQLite, one worker. Scaled: a scratch PostgreSQL database (kj_h1_load, dropped at the
end) and Redis db 11 (flushed at start; KJ_LOAD_REDIS_URL to change), several Granian workers.

Each round (one per N) has three phases:
1. sign-in: every client POSTs /auth/signin (a few at a time: argon2 is what that costs, and it
   is not what this measures);
2. connect: the clinician opens /clinician, then every client opens /checkin (the socket's
   hydrate event and the page's on_load); memory is read before and after;
3. check-in, measured: each client starts at a random moment within ``--ramp`` seconds and taps
   mood, anxiety and sleep (the third tap submits), ``--think`` seconds apart as a person
   would; meanwhile the clinician pages through the caseload once a second.

Latency of an event = sent -> the message that completes it (load_client.py). Errors: an event
without it within 30 s, a toast or redirect, a problem shown, a reconnect (unless a worker was
killed on purpose), and any client without a submitted check-in in the database afterwards.

Budget: p95 under 150 ms at 200 clients, zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import psutil  # noqa: E402
from sqlalchemy import select  # noqa: E402

from benchmarks.load_client import (  # noqa: E402
    Frontend,
    Tab,
    frontend_events,
    has_var,
    sign_in,
    substate,
)
from benchmarks.load_seed import PASSWORD, REPORT_OFFSET, Cohort, seed_cohort  # noqa: E402
from benchmarks.load_server import APP_ROOT, Server, running_server  # noqa: E402
from benchmarks.support import say  # noqa: E402
from kapjourney import db  # noqa: E402
from kapjourney.domain.models import Alert, CheckIn, SymptomReport  # noqa: E402
from kapjourney.domain.safety import SYMPTOM_ITEMS  # noqa: E402
from kapjourney.services.symptoms import REPORT_KIND  # noqa: E402

CHECKIN_STATE = substate("kapjourney.ui.pages.checkin.state", "CheckInState")
CLIENTS_STATE = substate("kapjourney.ui.pages.clients.state", "ClientsState")
REPORT_STATE = substate("kapjourney.ui.pages.symptoms.state", "SymptomReportState")
TAPS = ("mood", "anxiety", "sleep")  # the three taps; the third submits the day's check-in
BUDGET_N, BUDGET_P95_MS = 200, 150.0
RNG = random.Random(8)  # noqa: S311 - think times and answers, repeatable, not secrets
URGENT = {key: "0" for key, _ in SYMPTOM_ITEMS} | {"urinary": "2"}  # raises an urgent alert


@dataclass
class Round:
    mode: str
    workers: int
    n: int
    events: int = 0
    errors: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)
    hydrate_p50_ms: float = 0.0
    hydrate_p95_ms: float = 0.0
    signin_seconds: float = 0.0
    checkin_seconds: float = 0.0
    events_per_second: float = 0.0
    rss_before_mb: float = 0.0
    rss_after_mb: float = 0.0
    pss_before_mb: float = 0.0
    pss_after_mb: float = 0.0
    kb_per_client_rss: float = 0.0
    kb_per_client_pss: float = 0.0
    submitted_rows: int = 0
    reports_acknowledged: int = 0
    alerts_found: int = 0
    acknowledged_missing: int = 0
    lock_wait_seconds: float = 0.0  # waiting for the browser tests' lock before starting
    killed_worker: int = 0
    server_alive: bool = True  # the server still answered after the phase
    workers_after: int = 0
    disconnected_tabs: int = 0
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)
    generator_cpu_seconds: float = 0.0
    error_samples: list[str] = field(default_factory=list)

    @property
    def budget_met(self) -> bool | None:
        if self.n != BUDGET_N:
            return None
        return self.p95_ms < BUDGET_P95_MS and self.errors == 0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def alive(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/api/health", timeout=5) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def memory(server: Server) -> tuple[float, float]:
    """RSS and PSS (MB) summed over the server's processes. Forked workers share pages, so the
    RSS sum counts them once per worker; PSS shares them out."""
    rss = pss = 0
    for proc in server.processes():
        with contextlib.suppress(psutil.Error):
            info = proc.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
    return rss / 1e6, pss / 1e6


class Run:
    """One round's clients, the clinician and, when asked, the worker to kill."""

    def __init__(self, server: Server, cohort: Cohort, args: argparse.Namespace) -> None:
        self.server, self.cohort, self.args = server, cohort, args
        self.frontend = Frontend.read(APP_ROOT / ".web")
        self.tabs: list[Tab] = []
        self.report_tabs: list[tuple[int, Tab]] = []
        self.clinician: Tab | None = None
        self.acknowledged: set[int] = set()  # clients whose submitting tap was answered
        self.reports_ok: set[int] = set()  # clients whose report was answered (redirected)
        self.killed = 0
        self.signin_errors: list[str] = []

    async def sign_in_all(self) -> list[str]:
        gate = asyncio.Semaphore(self.args.signin_concurrency)
        connector = aiohttp.TCPConnector(limit=self.args.signin_concurrency)
        # No shared cookie jar: a sign-in that carries another session's cookie ends it (that
        # browser signs in as someone else), and each simulated phone is its own browser.
        jar = aiohttp.DummyCookieJar()
        async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as http:

            async def one(email: str) -> str:
                async with gate:
                    for attempt in range(3):  # a refused sign-in is an error; she tries again
                        try:
                            return await sign_in(http, self.server.url, email, PASSWORD)
                        except RuntimeError as refused:
                            self.signin_errors.append(str(refused))
                            if attempt == 2:
                                raise
                            await asyncio.sleep(1)
                    raise AssertionError("unreachable")

            return await asyncio.gather(*(one(p.email) for p in self.cohort.clients))

    async def connect_all(self, cookies: list[str]) -> None:
        reconnect = self.args.kill_worker
        self.clinician = Tab(
            self.server.url, self.cohort.clinician_token, "/clinician", self.frontend, reconnect
        )
        await self.clinician.open()
        self.tabs = [
            Tab(self.server.url, cookie, "/checkin", self.frontend, reconnect) for cookie in cookies
        ]
        gate = asyncio.Semaphore(self.args.connect_concurrency)

        async def open_one(tab: Tab) -> None:
            async with gate:
                await tab.open()

        await asyncio.gather(*(open_one(t) for t in self.tabs))
        for i, (person, cookie) in enumerate(zip(self.cohort.clients, cookies, strict=True)):
            if person.dosing_session_id:
                path = f"/report/{person.dosing_session_id}/{REPORT_OFFSET}"
                params = {
                    "dosing_session_id": str(person.dosing_session_id),
                    "offset_minutes": str(REPORT_OFFSET),
                }
                tab = Tab(self.server.url, cookie, path, self.frontend, reconnect, params)
                await tab.open()
                self.report_tabs.append((i, tab))

    async def check_in(self, i: int, tab: Tab) -> None:
        await asyncio.sleep(RNG.uniform(0, self.args.ramp))
        for n, key in enumerate(TAPS):
            if n:
                await asyncio.sleep(RNG.uniform(0.5, 1.5) * self.args.think)
            value = str(RNG.randint(1, 5))
            sample = await tab.call(
                "tap",
                f"{CHECKIN_STATE}.tap",
                {"key": key, "value": value},
                has_var(CHECKIN_STATE, "answers"),
            )
            if not sample.ok:
                return
        shown = tab.state.get(CHECKIN_STATE, {})
        problems = [k for k, v in (shown.get("problems_rx_state_") or {}).items() if v]
        if shown.get("status_rx_state_") != "submitted" or problems:
            tab.errors.append(f"check-in not submitted (problems at {problems})")
            return
        self.acknowledged.add(i)

    async def report(self, i: int, tab: Tab) -> None:
        """A day-after symptom report with a worrying answer: it raises an urgent alert, and
        the page sends the client to the support screen."""
        await asyncio.sleep(RNG.uniform(0, self.args.ramp))
        for item, value in URGENT.items():
            sample = await tab.call(
                "report",
                f"{REPORT_STATE}.choose",
                {"item": item, "value": value},
                has_var(REPORT_STATE, "answers"),
            )
            if not sample.ok:
                return
            await asyncio.sleep(0.15)
        sample = await tab.call(
            "report",
            f"{REPORT_STATE}.submit",
            {},
            lambda update: "_redirect /support" in frontend_events(update),
            expect=("_redirect /support",),
        )
        if sample.ok:
            self.reports_ok.add(i)

    async def watch(self, stop: asyncio.Event) -> None:
        """The clinician pages through the caseload once a second until the clients are done."""
        assert self.clinician is not None
        page = 1
        while not stop.is_set():
            page = 2 if page == 1 else 1
            await self.clinician.call(
                "clinician",
                f"{CLIENTS_STATE}.go_to_page",
                {"page": page},
                has_var(CLIENTS_STATE, "rows"),
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    async def kill_one_worker(self) -> None:
        await asyncio.sleep(self.args.kill_after)
        workers = self.server.workers()
        if not workers:
            raise RuntimeError("no worker process to kill")
        victim = RNG.choice(workers)
        self.killed = victim.pid
        say(f"kill -9 worker {victim.pid} ({len(workers)} workers)")
        os.kill(victim.pid, signal.SIGKILL)

    async def measured_phase(self) -> float:
        stop = asyncio.Event()
        watcher = asyncio.create_task(self.watch(stop))
        started = time.perf_counter()
        work = [self.check_in(i, t) for i, t in enumerate(self.tabs)]
        work += [self.report(i, t) for i, t in self.report_tabs]
        if self.args.kill_worker:
            work.append(self.kill_one_worker())
        await asyncio.gather(*work)
        seconds = time.perf_counter() - started
        stop.set()
        await watcher
        return seconds

    async def close(self) -> None:
        tabs = [*self.tabs, *(t for _, t in self.report_tabs)]
        if self.clinician:
            tabs.append(self.clinician)
        await asyncio.gather(*(t.close() for t in tabs), return_exceptions=True)


def verify(db_url: str, cohort: Cohort, run: Run, result: Round) -> list[str]:
    """What the database holds afterwards: a submitted check-in per client, and an alert for
    every report that was answered."""
    ids = [p.user_id for p in cohort.clients]
    problems = []
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            stored = set(
                s.execute(
                    select(CheckIn.client_id).where(
                        CheckIn.client_id.in_(ids), CheckIn.status == "submitted"
                    )
                ).scalars()
            )
            reporters = {cohort.clients[i].user_id for i in run.reports_ok}
            alerted = set(
                s.execute(
                    select(Alert.client_id)
                    .join(SymptomReport, SymptomReport.id == Alert.source_id)
                    .where(Alert.source_kind == REPORT_KIND, Alert.client_id.in_(reporters))
                ).scalars()
            )
    finally:
        engine.dispose()
    result.submitted_rows = len(stored)
    missing = [p.email for p in cohort.clients if p.user_id not in stored]
    acked = [cohort.clients[i] for i in run.acknowledged]
    lost = [p.email for p in acked if p.user_id not in stored]
    result.acknowledged_missing = len(lost)
    result.reports_acknowledged = len(run.reports_ok)
    result.alerts_found = len(alerted & reporters)
    if missing:
        problems.append(f"{len(missing)} clients have no submitted check-in")
    if lost:
        problems.append(f"{len(lost)} acknowledged check-ins are not in the database")
    for uid in sorted(reporters - alerted):
        problems.append(f"an acknowledged worrying report (client {uid}) has no alert")
    return problems


async def run_round(server: Server, n: int, args: argparse.Namespace, workers: int) -> Round:
    result = Round(mode=server.mode, workers=workers, n=n)
    result.lock_wait_seconds = server.extra.get("lock_wait_seconds", 0.0)
    cohort = await asyncio.to_thread(seed_cohort, server.db_url, n, dosed=args.reports)
    run = Run(server, cohort, args)
    started = time.perf_counter()
    cookies = await run.sign_in_all()
    result.signin_seconds = time.perf_counter() - started
    await asyncio.sleep(1)
    result.rss_before_mb, result.pss_before_mb = memory(server)
    try:
        await run.connect_all(cookies)
        await asyncio.sleep(1)
        result.rss_after_mb, result.pss_after_mb = memory(server)
        cpu = psutil.Process().cpu_times()
        result.checkin_seconds = await run.measured_phase()
        after = psutil.Process().cpu_times()
        result.generator_cpu_seconds = after.user + after.system - cpu.user - cpu.system
        result.load_average = tuple(round(x, 2) for x in os.getloadavg())
        result.server_alive = server.proc.poll() is None and alive(server.url)
        result.workers_after = len(server.workers())
    finally:
        await run.close()
    tabs = [*run.tabs, *(t for _, t in run.report_tabs), run.clinician]
    samples = [s for t in tabs if t for s in t.samples]
    measured = [s for s in samples if s.kind != "hydrate"]
    hydrates = [s.ms for s in samples if s.kind == "hydrate"]
    ms = [s.ms for s in measured if s.ok]
    result.events = len(measured)
    result.p50_ms, result.p95_ms = percentile(ms, 50), percentile(ms, 95)
    result.p99_ms, result.max_ms = percentile(ms, 99), max(ms, default=0.0)
    for kind in sorted({s.kind for s in measured}):
        kind_ms = [s.ms for s in measured if s.kind == kind and s.ok]
        result.by_kind[kind] = {
            "events": len(kind_ms),
            "p50_ms": round(percentile(kind_ms, 50), 1),
            "p95_ms": round(percentile(kind_ms, 95), 1),
            "max_ms": round(max(kind_ms, default=0.0), 1),
        }
    result.hydrate_p50_ms = percentile(hydrates, 50)
    result.hydrate_p95_ms = percentile(hydrates, 95)
    result.events_per_second = len(measured) / max(result.checkin_seconds, 1e-9)
    grown = max(0.0, result.rss_after_mb - result.rss_before_mb)
    result.kb_per_client_rss = grown * 1000 / n
    result.kb_per_client_pss = max(0.0, result.pss_after_mb - result.pss_before_mb) * 1000 / n
    result.killed_worker = run.killed
    result.disconnected_tabs = sum(1 for t in tabs if t and t.disconnects)
    errors = [f"sign-in: {e}" for e in run.signin_errors]
    errors += [e for t in tabs if t for e in t.errors]
    if run.killed == 0:
        errors += [f"unexpected disconnect ({t.path})" for t in tabs if t and t.disconnects]
    errors += verify(server.db_url, cohort, run, result)
    result.errors = len(errors)
    result.error_samples = errors[:40]
    return result


def report(r: Round) -> None:
    say(
        f"{r.mode:8} workers={r.workers} N={r.n:<4} events={r.events:<5} errors={r.errors:<3} "
        f"p50={r.p50_ms:6.1f} p95={r.p95_ms:6.1f} p99={r.p99_ms:6.1f} max={r.max_ms:7.1f} ms"
    )
    for kind, figures in r.by_kind.items():
        say(f"    {kind:9} {figures}")
    say(
        f"    hydrate p50={r.hydrate_p50_ms:.0f} p95={r.hydrate_p95_ms:.0f} ms (connect burst); "
        f"sign-in {r.signin_seconds:.1f} s; check-in phase {r.checkin_seconds:.1f} s "
        f"({r.events_per_second:.1f} events/s); load generator CPU {r.generator_cpu_seconds:.1f} s"
    )
    say(
        f"    memory RSS {r.rss_before_mb:.0f} -> {r.rss_after_mb:.0f} MB "
        f"({r.kb_per_client_rss:.0f} kB/client), PSS {r.pss_before_mb:.0f} -> "
        f"{r.pss_after_mb:.0f} MB ({r.kb_per_client_pss:.0f} kB/client)"
    )
    say(f"    submitted check-ins in the database: {r.submitted_rows}/{r.n}; load {r.load_average}")
    if r.killed_worker:
        say(
            f"    after the kill: server {'answering' if r.server_alive else 'DOWN'}, "
            f"{r.workers_after} worker process(es)"
        )
        say(
            f"    killed worker {r.killed_worker}: {r.disconnected_tabs} tabs reconnected; "
            f"acknowledged check-ins missing {r.acknowledged_missing}; reports answered "
            f"{r.reports_acknowledged}, alerts found {r.alerts_found}"
        )
    for line in r.error_samples:
        say(f"    error: {line}")
    if r.budget_met is not None:
        say(
            f"    budget (p95 < {BUDGET_P95_MS:.0f} ms at N={BUDGET_N}, zero errors): "
            + ("met" if r.budget_met else "NOT met")
        )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--mode", choices=("embedded", "scaled"), default="embedded")
    p.add_argument("-n", type=int, nargs="+", default=[50, 200], help="clients per round")
    p.add_argument("--workers", type=int, default=3, help="backend workers in scaled mode")
    p.add_argument("--ramp", type=float, default=10.0, help="seconds over which clients start")
    p.add_argument("--think", type=float, default=1.0, help="mean seconds between taps")
    p.add_argument("--signin-concurrency", type=int, default=4)
    p.add_argument("--connect-concurrency", type=int, default=20)
    p.add_argument("--reports", type=int, default=0, help="clients who also send a worrying report")
    p.add_argument("--kill-worker", action="store_true", help="kill -9 one worker mid-phase")
    p.add_argument("--kill-after", type=float, default=4.0, help="seconds into the phase")
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--json", type=Path, help="write the figures here")
    args = p.parse_args(argv)
    if args.kill_worker and args.mode != "scaled":
        p.error("--kill-worker needs --mode scaled (one worker has no other to take over)")
    return args


def main(argv: list[str] | None = None) -> list[Round]:
    args = parse(argv)
    RNG.seed(args.seed)
    results: list[Round] = []
    with running_server(args.mode, workers=args.workers) as server:
        workers = len(server.workers())
        say(f"{args.mode} mode at {server.url}: {workers} backend worker process(es)")
        for n in args.n:
            try:
                result = asyncio.run(run_round(server, n, args, workers))
            except Exception:
                say("the server's log ends:\n" + server.log_tail())
                raise
            report(result)
            results.append(result)
    if args.json:
        figures = [asdict(r) | {"budget_met": r.budget_met} for r in results]
        args.json.write_text(json.dumps(figures, indent=2))
    return results


if __name__ == "__main__":
    main()
