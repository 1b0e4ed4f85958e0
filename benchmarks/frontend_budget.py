"""Front-end budget (a script, not a test): Lighthouse (the npm package in tools/, mobile form
factor; simulated throttling unless --throttling devtools) against Debian's Chromium, on the
client pages of the real app in Reflex's single-port production mode, signed in as the demo
client.

    .venv/bin/python benchmarks/frontend_budget.py                    # every client page, 3 runs
    .venv/bin/python benchmarks/frontend_budget.py --runs 1 --page /checkin --json out.json
    .venv/bin/python benchmarks/frontend_budget.py --throttling devtools   # a real 4x slowdown

It starts its own server the way the browser tests do (tests/browser/conftest.py ``app_url``:
``kapjourney.cli setup`` then ``reflex run --env prod --single-port``, KJ_ENV=test, its own data
directory) and holds ``/tmp/kj-browser.lock`` for the server's whole life, because the build in
``.web`` is shared with the browser tests. It signs in over HTTP (``POST /auth/signin``) and
gives Lighthouse the HttpOnly session cookie as an extra header.

Per page it prints the median of the runs: the performance, accessibility and best-practices
scores, LCP, TBT, CLS, and the JavaScript transferred (compressed bytes on the wire, from the
network requests in Lighthouse's report). Budget: performance >= 90 and accessibility >= 95 on
every page. Performance depends on the machine: print ``uptime`` with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load_server import running_server  # noqa: E402
from kapjourney import routes  # noqa: E402
from kapjourney.seed import CLIENT_PASSWORD  # noqa: E402

TOOLS_BIN = ROOT / "tools" / "node_modules" / ".bin"
LIGHTHOUSE = TOOLS_BIN / "lighthouse"
CHROMIUM = os.environ.get("KJ_CHROMIUM", "/usr/bin/chromium")
CLIENT_EMAIL = "alex@riverbend.example"
BUDGET = {"performance": 90, "accessibility": 95}
# The pages a client uses (kapjourney/routes.py), and the sign-in page signed out.
CLIENT_PAGES = [
    routes.TODAY,
    routes.CHECKIN,
    routes.PROGRESS,
    routes.SUPPORT,
    routes.CRISIS,
    routes.SAFETY_PLAN,
    routes.JOURNAL,
    routes.PLAN,
    routes.CONSENT,
    routes.SCREENING,
    routes.SETTINGS,
]
SIGNED_OUT_PAGES = [routes.SIGNIN]
ATTEMPTS = 3  # per Lighthouse run
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --no-first-run --disable-dev-shm-usage"


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def session_cookie(url: str, email: str, password: str) -> str:
    """Sign in over HTTP as a browser would; returns ``name=value`` of the session cookie."""
    request = urllib.request.Request(  # noqa: S310 - our own http://localhost server
        url + "/auth/signin",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"Content-Type": "application/json", "Origin": url},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        body = json.loads(response.read())
        cookies = response.headers.get_all("Set-Cookie") or []
    if not body.get("ok") or not cookies:
        raise SystemExit(f"sign-in as {email} failed: {body}")
    return "; ".join(c.split(";", 1)[0] for c in cookies)


def lighthouse(url: str, cookie: str, out: Path, throttling: str = "simulate") -> dict:
    """One Lighthouse run (mobile) saved at ``out``; returns its report. ``throttling`` is
    Lighthouse's method: "simulate" (its default: the page loads at full speed and Lantern
    models a slow phone from the trace) or "devtools" (the page really loads at 4x CPU
    slowdown and a throttled network: slower to run, and what a phone would live through)."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        "--only-categories=performance,accessibility,best-practices",
        f"--chrome-flags={CHROME_FLAGS}",
        # Lighthouse waits for the network to go quiet, at most this long; DevTools never sees
        # pwa.js's start-up POST finish, so every run waits the whole limit (45 s by default).
        "--max-wait-for-load=20000",
        f"--throttling-method={throttling}",
    ]
    if cookie:
        command.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    for attempt in range(1, ATTEMPTS + 1):
        out.unlink(missing_ok=True)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)  # noqa: S603
        if done.returncode == 0 and out.exists():
            return json.loads(out.read_text())
        # A loaded machine now and then loses the trace (NO_NAVSTART): run again.
        say(f"  lighthouse failed on {url} (attempt {attempt}): {done.stderr.strip()[-300:]}")
    raise SystemExit(f"lighthouse failed {ATTEMPTS} times on {url}")


def figures(report: dict) -> dict:
    """What the budget looks at, from one Lighthouse report."""
    categories = report["categories"]
    audits = report["audits"]
    requests = audits["network-requests"]["details"]["items"]
    scripts = [r for r in requests if r.get("resourceType") == "Script"]
    return {
        "final_path": urlsplit(report.get("finalDisplayedUrl") or report["finalUrl"]).path,
        "performance": round(100 * (categories["performance"]["score"] or 0)),
        "accessibility": round(100 * (categories["accessibility"]["score"] or 0)),
        "best_practices": round(100 * (categories["best-practices"]["score"] or 0)),
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "fcp_ms": audits["first-contentful-paint"]["numericValue"],
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "js_transfer_bytes": sum(r.get("transferSize") or 0 for r in scripts),
        "js_resource_bytes": sum(r.get("resourceSize") or 0 for r in scripts),
        "js_requests": len(scripts),
        # Lighthouse's measure of this machine's speed at that moment (higher is faster): its
        # simulation scales the trace it records here, so the scores follow it.
        "benchmark_index": report.get("environment", {}).get("benchmarkIndex") or 0,
        "failing_audits": sorted(
            audit_id
            for category in ("accessibility", "best-practices")
            for ref in categories[category]["auditRefs"]
            if ref.get("weight")
            and (audits[ref["id"]].get("score") is not None)
            and audits[ref["id"]]["score"] < 1
            for audit_id in [ref["id"]]
        ),
        "opportunities": sorted(
            audit_id
            for audit_id, audit in audits.items()
            if (audit.get("details") or {}).get("type") == "opportunity"
            and (audit.get("numericValue") or 0) >= 100
            and (audit.get("score") is not None and audit["score"] < 1)
        ),
    }


def median_figures(runs: list[dict]) -> dict:
    numeric = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    merged = {k: statistics.median(r[k] for r in runs) for k in numeric}
    merged["runs"] = len(runs)
    merged["final_path"] = runs[-1]["final_path"]
    merged["failing_audits"] = sorted({a for r in runs for a in r["failing_audits"]})
    merged["opportunities"] = sorted({a for r in runs for a in r["opportunities"]})
    merged["performance_runs"] = [r["performance"] for r in runs]
    return merged


def measure(
    url: str, pages: list[str], runs: int, reports: Path | None, throttling: str
) -> dict[str, dict]:
    cookie = session_cookie(url, CLIENT_EMAIL, CLIENT_PASSWORD)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="kj-lighthouse-") as tmp:
        for path in pages:
            signed_in = path not in SIGNED_OUT_PAGES
            per_run = []
            for run in range(runs):
                name = f"{path.strip('/').replace('/', '_') or 'index'}-{run + 1}.json"
                out = (reports or Path(tmp)) / name
                report = lighthouse(url + path, cookie if signed_in else "", out, throttling)
                per_run.append(figures(report))
            result = median_figures(per_run)
            if result["final_path"].rstrip("/") != path.rstrip("/"):
                say(f"  note: {path} ended on {result['final_path']} (not signed in?)")
            results[path] = result
            say(_row(path, result))
    return results


HEADER = (
    f"{'page':<14} {'perf':>4} {'a11y':>4} {'bp':>4} {'LCP ms':>7} {'TBT ms':>7} {'CLS':>6} "
    f"{'JS kB (wire)':>12} {'JS kB (raw)':>11} {'perf runs':>12}"
)


def _row(path: str, r: dict) -> str:
    return (
        f"{path:<14} {r['performance']:>4.0f} {r['accessibility']:>4.0f} "
        f"{r['best_practices']:>4.0f} {r['lcp_ms']:>7.0f} {r['tbt_ms']:>7.0f} {r['cls']:>6.3f} "
        f"{r['js_transfer_bytes'] / 1000:>12.1f} {r['js_resource_bytes'] / 1000:>11.1f} "
        f"{','.join(str(p) for p in r['performance_runs']):>12}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (median)")
    parser.add_argument(
        "--page", action="append", help="a path to measure (repeatable; default: every page)"
    )
    parser.add_argument("--json", type=Path, help="save the figures to this file")
    parser.add_argument("--reports", type=Path, help="keep every Lighthouse report in this folder")
    parser.add_argument(
        "--throttling",
        choices=("simulate", "devtools"),
        default="simulate",
        help="Lighthouse's throttling method (default simulate, Lighthouse's own default)",
    )
    args = parser.parse_args()
    for tool in (LIGHTHOUSE, Path(CHROMIUM)):
        if not tool.exists():
            raise SystemExit(f"{tool} is missing: run `make install` (tools/) and install chromium")
    if shutil.which("bun", path=str(TOOLS_BIN)) is None:
        raise SystemExit("bun is missing: run `make install`, which installs tools/ from npm")
    pages = args.page or [*CLIENT_PAGES, *SIGNED_OUT_PAGES]
    load_before = os.getloadavg()
    # The same production server as the load test (benchmarks/load_server.py), holding the
    # browser tests' lock on the shared .web build for its whole life.
    with running_server("embedded") as server:
        url = server.url
        say(
            f"Lighthouse {_lighthouse_version()}, mobile, {args.throttling} throttling, "
            f"{args.runs} run(s) per page, median"
        )
        say(HEADER)
        if args.reports:
            args.reports.mkdir(parents=True, exist_ok=True)
        results = measure(url, pages, args.runs, args.reports, args.throttling)
    load_after = os.getloadavg()
    say("")
    say(f"load average before {_load(load_before)}, after {_load(load_after)} (2 cores)")
    indexes = [r["benchmark_index"] for r in results.values()]
    say(
        "Lighthouse's benchmark index of this machine (higher is faster), page medians: "
        f"{min(indexes):.0f}-{max(indexes):.0f}"
    )
    failed = {
        path: [k for k, floor in BUDGET.items() if r[k] < floor] for path, r in results.items()
    }
    failed = {path: keys for path, keys in failed.items() if keys}
    if routes.CHECKIN in results:
        r = results[routes.CHECKIN]
        say(
            f"check-in page JavaScript: {r['js_transfer_bytes'] / 1000:.1f} kB transferred "
            f"({r['js_resource_bytes'] / 1000:.1f} kB uncompressed, {r['js_requests']:.0f} files)"
        )
    for path, r in results.items():
        if r["failing_audits"] or r["opportunities"]:
            say(f"{path}: failing {r['failing_audits']}; opportunities {r['opportunities']}")
    say(
        "budget (performance >= 90, accessibility >= 95): "
        + ("met on every page" if not failed else f"NOT met: {failed}")
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "lighthouse": _lighthouse_version(),
                    "runs": args.runs,
                    "throttling": args.throttling,
                    "load_average": {"before": load_before, "after": load_after},
                    "budget": BUDGET,
                    "pages": results,
                },
                indent=2,
            )
        )
        say(f"saved {args.json}")
    sys.exit(1 if failed else 0)


def _load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


def _lighthouse_version() -> str:
    done = subprocess.run([str(LIGHTHOUSE), "--version"], capture_output=True, text=True)  # noqa: S603
    return done.stdout.strip()


if __name__ == "__main__":
    main()
