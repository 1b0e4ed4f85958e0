"""The front-end budget (issue 8), guarded without timing: the check-in page at phone size, on a
cold cache, fetches at most JS_BUDGET_BYTES of compressed JavaScript in at most JS_FILES_BUDGET
files, its address answers at once (no redirect), its hashed bundles come pre-compressed and
cacheable for good, its stylesheet carries only the UI kit's components and colours in use,
and axe finds nothing serious on it.

The Lighthouse scores themselves depend on the machine's load, so they live in
benchmarks/frontend_budget.py and docs/PERFORMANCE.md, not here.

Measured on this build: about 182 kB of JavaScript in 12 files (brotli), from 620 kB in 56 files
before the bundling fixes (kapjourney/ui/layout.py, kapjourney/ui/bundling.py, rxconfig.py),
and a 45 kB (gzip) stylesheet, from 53 kB.
"""

from __future__ import annotations

from playwright.sync_api import expect

from kapjourney import routes
from kapjourney.seed import CLIENT_PASSWORD
from tests.browser.conftest import PHONE, serious_violations, shot, sign_in

CLIENT = "alex@riverbend.example"
JS_BUDGET_BYTES = 250_000
JS_FILES_BUDGET = 12
IMMUTABLE = "immutable"
COMPRESSED_FROM = 256  # bytes: Reflex's compress-static.js leaves smaller files as they are


def _scripts(page) -> list[dict]:
    """Every script the page fetched, with its compressed (encoded) body size."""
    return page.evaluate(
        """() => performance.getEntriesByType('resource')
            .filter(e => new URL(e.name).pathname.endsWith('.js'))
            .map(e => ({url: e.name, encoded: e.encodedBodySize, decoded: e.decodedBodySize}))"""
    )


def _settled_scripts(page) -> list[dict]:
    """The scripts once no new one has come for two seconds (the page's module imports)."""
    seen: list[dict] = []
    for _ in range(30):
        page.wait_for_timeout(1_000)
        now = _scripts(page)
        if now and len(now) == len(seen):
            return now
        seen = now
    return seen


def test_the_checkin_page_stays_within_its_javascript_budget(browser, app_url):
    signing = browser.new_context(base_url=app_url, **PHONE)
    sign_in(signing.new_page(), CLIENT, CLIENT_PASSWORD)
    cookies = signing.cookies()
    signing.close()

    # A cold cache: a new context holding only the session cookie.
    context = browser.new_context(base_url=app_url, **PHONE)
    context.add_cookies(cookies)
    page = context.new_page()
    bundles: dict[str, dict] = {}
    page.on(
        "response",
        lambda r: (
            bundles.setdefault(r.url, {"status": r.status, **r.headers})
            if "/assets/" in r.url and r.url.endswith(".js")
            else None
        ),
    )
    try:
        first = page.goto(routes.CHECKIN)
        assert first is not None and first.status == 200
        assert first.request.redirected_from is None, "the page's address redirects"
        html = first.text()
        # The prerendered page paints from its HTML and stylesheet; its scripts come after.
        assert html.count('rel="modulepreload"') >= 3
        assert html.count('rel="modulepreload"') == html.count(
            '<link rel="modulepreload" fetchpriority="low" href='
        )
        expect(page.locator("#checkin")).to_be_visible()  # not sent to sign-in
        scripts = _settled_scripts(page)
        total = sum(s["encoded"] for s in scripts)
        shown = sorted((s["encoded"], s["url"].rsplit("/", 1)[-1]) for s in scripts)[-5:]
        assert 0 < total <= JS_BUDGET_BYTES, f"{total} bytes of JavaScript; largest {shown}"
        assert len(scripts) <= JS_FILES_BUDGET, f"{len(scripts)} script files"
        # Compressed on the wire: the bundles are served from their brotli or gzip sidecars.
        assert total < sum(s["decoded"] for s in scripts) / 2

        # The kit's dialogs and menus (and what positions and traps focus for them) are
        # bundled with the pages that draw them, not with every page (bundling.SHARED_BY).
        code = "".join(page.request.get(s["url"]).text() for s in scripts)
        assert "rt-Button" in code
        assert "rt-BaseDialogContent" not in code and "rt-BaseMenuContent" not in code

        assert bundles, "no hashed bundle was fetched"
        decoded = {s["url"]: s["decoded"] for s in scripts}
        for url, headers in bundles.items():
            assert headers["status"] == 200, url
            # Reflex pre-compresses every file of 256 bytes or more (smaller ones gain nothing).
            if decoded.get(url, COMPRESSED_FROM) >= COMPRESSED_FROM:
                assert headers.get("content-encoding") in ("br", "gzip"), url
            assert IMMUTABLE in headers.get("cache-control", ""), url

        sheet = page.evaluate(
            "() => [...document.styleSheets].map(s => s.href).find(h => h?.endsWith('.css'))"
        )
        css = page.request.get(sheet).text()
        assert ".rt-Button" in css and "--indigo-9:" in css and "--red-9:" in css
        assert "rt-ThemePanel" not in css, "the stylesheet carries components no page uses"
        assert "--tomato-9:" not in css, "the stylesheet defines colours no page uses"
        # The kit's utilities for the breakpoints a page gives a responsive prop (md, sm), and
        # none for the others (xs, lg, xl: no page uses them).
        assert ".md\\:rt-r-gtc-2" in css and ".sm\\:rt-r-gtc-2" in css
        assert "xs\\:rt-r-" not in css and "lg\\:rt-r-" not in css and "xl\\:rt-r-" not in css

        assert serious_violations(page) == []
    finally:
        shot(page, "frontend-budget-checkin")
        context.close()


# Pages whose opening (heading and what the page is for) is drawn from the prerendered HTML,
# with the first paint, before any script runs or the page's data arrives; the data follows
# under a spinner.
OPENINGS = {
    routes.JOURNAL: "Short exercises from your care team",
    routes.SAFETY_PLAN: "A plan for hard moments, written with your care team.",
    routes.SCREENING: "A few short questionnaires help your care team",
}


def test_a_pages_opening_is_drawn_before_its_scripts_run(browser, app_url):
    context = browser.new_context(base_url=app_url, java_script_enabled=False, **PHONE)
    page = context.new_page()
    try:
        for path, opening in OPENINGS.items():
            page.goto(path)  # no script runs: what shows is the prerendered page itself
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            expect(page.get_by_text(opening)).to_be_visible()
            expect(page.locator(".rt-Spinner")).to_be_visible()  # the page's data follows
            shot(page, f"opening-{path.strip('/')}-phone")
    finally:
        context.close()
