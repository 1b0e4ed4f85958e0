"""The real server's security layer (kapjourney/http/security.py), in Chromium: every page a
client and a clinician can reach works under the content security policy with no violation
reported (a check-in submits), an inline script injected into a page is refused, every kind of
response carries the headers, a page of another site can neither call a route nor open the event
socket, and an oversize socket message closes only its own socket.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from kapjourney import routes
from tests.browser.conftest import DESKTOP, PHONE, serious_violations, shot, sign_in
from tests.browser.people import SAM, invite_client_of_sam

STAFF_PASSWORD = "journey-demo-staff"
PASSWORD = "harbour lights at dusk"
EVIL = "https://evil.example"
# Reports every CSP violation of every page of a context to the test (init scripts and bindings
# are not subject to the page's policy).
COLLECT = """document.addEventListener('securitypolicyviolation', (e) => window.__kjCsp({
  directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample,
  page: location.pathname}));"""
CLIENT_PAGES = [
    routes.TODAY,
    routes.CHECKIN,
    routes.CONSENT,
    routes.SCREENING,
    routes.questionnaire_url("phq9"),
    routes.form_url("phq9"),
    routes.PLAN,
    routes.SUPPORT,
    routes.SAFETY_PLAN,
    routes.JOURNAL,
    routes.PROGRESS,
    routes.SETTINGS,
    routes.CRISIS,
]
CLINICIAN_PAGES = [
    routes.CLINICIAN_HOME,
    routes.PROTOCOL,
    routes.SAFETY_RULES,
    routes.ALERTS,
    routes.TEAM,  # admins only: a clinician is sent home, the page's code loaded under the policy
    routes.SETTINGS,
]
SIGNED_OUT_PAGES = [routes.SIGNIN, routes.INVITE, routes.CRISIS, "/no-such-page"]
# A raw engine.io socket from a page: resolves with what happened to it.
RAW_SOCKET = """async ({url, size}) => new Promise((resolve) => {
  const ws = new WebSocket(url);
  const seen = {opened: false, handshake: null, closed: false};
  ws.onopen = () => { seen.opened = true; };
  ws.onmessage = (m) => {
    if (m.data.startsWith('0')) {
      seen.handshake = JSON.parse(m.data.slice(1));
      if (size) ws.send('42["noop","' + 'x'.repeat(size) + '"]');
      setTimeout(() => { ws.close(); resolve(seen); }, 3000);
    }
  };
  ws.onclose = () => { seen.closed = true; resolve(seen); };
})"""


def _context(browser, app_url, size, found):
    context = browser.new_context(base_url=app_url, **size)
    context.expose_binding("__kjCsp", lambda source, violation: found.append(violation))
    context.add_init_script(COLLECT)
    return context


def _visit(page, path: str) -> None:
    page.goto(path)
    page.wait_for_load_state("load")
    expect(page.locator("body")).not_to_be_empty()
    page.wait_for_timeout(500)  # hydration and the socket's first events


def _request(app_url: str, method: str, path: str, headers: dict | None = None):
    """One request, redirects not followed."""
    parts = urlsplit(app_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _event_url(app_url: str) -> str:
    return app_url.replace("http://", "ws://") + "/_event/?EIO=4&transport=websocket"


def test_every_kind_of_response_carries_the_headers(app_url):
    status, headers, page = _request(app_url, "GET", "/")
    asset = re.search(rb'src="(/assets/[^"]+\.js)"', page) or re.search(
        rb'href="(/assets/[^"]+\.js)"', page
    )
    policy = headers["content-security-policy"]
    for script in re.findall(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", page, re.S):
        digest = base64.b64encode(hashlib.sha256(script).digest()).decode()
        assert f"'sha256-{digest}'" in policy, script[:80]
    kinds = {
        "/": 200,
        "/signin": 200,  # a built page at its own address, no redirect (kapjourney/http/static.py)
        "/today/": 200,
        asset.group(1).decode(): 200,
        "/sw.js": 200,
        "/manifest.webmanifest": 200,
        "/icons/favicon.png": 200,
        "/no-such-page": 404,
        "/_health": 200,
        "/ping": 200,
        "/api/health": 200,
        "/offline.html": 200,
    }
    for path, expected in kinds.items():
        status, headers, _ = _request(app_url, "GET", path)
        assert status == expected, path
        assert headers["content-security-policy"] == policy, path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "no-referrer", path
        assert headers["cross-origin-opener-policy"] == "same-origin", path
        assert "camera=()" in headers["permissions-policy"], path
        assert "strict-transport-security" not in headers, path  # served over plain HTTP
    for directive in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"):
        assert directive in policy


@pytest.mark.parametrize(
    ("method", "path", "extra"),
    [
        ("POST", "/auth/signin", {"Content-Type": "application/json"}),
        ("GET", "/_event/?EIO=4&transport=polling", {}),
        ("OPTIONS", "/auth/signin", {"Access-Control-Request-Method": "POST"}),
    ],
)
def test_another_site_is_refused_on_routes_and_the_socket(app_url, method, path, extra):
    status, headers, _ = _request(app_url, method, path, {"Origin": EVIL, **extra})
    assert status == 403
    assert "access-control-allow-origin" not in headers and "set-cookie" not in headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    own = _request(app_url, method, path, {"Origin": app_url, **extra})[0]
    assert own != 403  # the same request from the app itself gets through


def test_client_pages_work_under_the_policy_and_a_checkin_submits(browser, app_url, app_db_url):
    dosing_id = invite_client_of_sam(
        app_db_url,
        email="casey.csp@riverbend.example",
        name="Casey Policy",
        password=PASSWORD,
        dosed_hours_ago=3,
    )
    found: list[dict] = []
    context = _context(browser, app_url, PHONE, found)
    page = context.new_page()
    for path in SIGNED_OUT_PAGES:
        _visit(page, path)
    sign_in(page, "casey.csp@riverbend.example", PASSWORD)  # the button runs rx.call_script
    for path in [*CLIENT_PAGES, routes.prepare_url(dosing_id), routes.report_url(dosing_id, 120)]:
        _visit(page, path)
    _visit(page, routes.CHECKIN)
    for scale, word in (("mood", "Good"), ("anxiety", "Calm"), ("sleep", "Okay")):
        choice = page.locator(f"#scale-{scale}").get_by_role("radio", name=word, exact=True)
        choice.click()
        expect(choice).to_be_checked()
    expect(page.locator("#saved")).to_contain_text("Saved for today")
    shot(page, "csp-checkin-saved-phone")
    assert serious_violations(page) == []  # axe still runs under the policy
    assert found == []

    # The policy is enforced, and reported: an injected inline script does not run.
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__injected = true'; document.body.append(s); }"""
    )
    for _ in range(20):  # the report reaches the test through the page's event loop
        if found:
            break
        page.wait_for_timeout(250)
    assert page.evaluate("window.__injected === undefined")
    assert [v["directive"] for v in found] == ["script-src-elem"]
    context.close()


def test_clinician_pages_work_under_the_policy(browser, app_url):
    found: list[dict] = []
    context = _context(browser, app_url, DESKTOP, found)
    page = context.new_page()
    sign_in(page, SAM, STAFF_PASSWORD)
    for path in CLINICIAN_PAGES:
        _visit(page, path)
    _visit(page, routes.CLINICIAN_HOME)
    clients = page.locator('a[href^="/clinician/client/"]')
    expect(clients.first).to_be_attached()
    _visit(page, clients.first.get_attribute("href"))
    expect(page.get_by_role("heading").first).to_be_visible()
    # A wide screen puts panels side by side (a responsive kit grid: columns 1, from md 2):
    # the kit's breakpoint classes the pruned stylesheet keeps (kapjourney/ui/bundling.py).
    readiness, alerts = page.locator("#readiness-panel"), page.locator("#alerts-panel")
    expect(alerts).to_be_visible()
    left, right = readiness.bounding_box(), alerts.bounding_box()
    assert abs(left["y"] - right["y"]) < 2 and right["x"] > left["x"] + left["width"]
    shot(page, "csp-client-detail-desktop")
    assert found == []
    context.close()


def test_a_sign_in_posted_before_the_script_starts_still_signs_in(browser, app_url, app_db_url):
    """Under no-referrer, Chromium sends ``Origin: null`` with a native form post; Fetch Metadata
    (Sec-Fetch-Site: same-origin) tells the app it came from its own page."""
    invite_client_of_sam(
        app_db_url, email="noel.native@riverbend.example", name="Noel Native", password=PASSWORD
    )
    context = browser.new_context(base_url=app_url, java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(routes.SIGNIN)
    page.locator("input[name=email]").fill("noel.native@riverbend.example")
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("#signin-form").get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/today/?$"))
    context.close()


class _ForeignSite(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>another site</title><p>another site</p>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_a_page_of_another_site_cannot_open_the_event_socket(browser, app_url):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ForeignSite)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"http://127.0.0.1:{server.server_port}/")  # another origin: another port
        foreign = page.evaluate(RAW_SOCKET, {"url": _event_url(app_url), "size": 0})
        page.goto(f"{app_url}/signin")
        own = page.evaluate(RAW_SOCKET, {"url": _event_url(app_url), "size": 0})
    finally:
        context.close()
        server.shutdown()
        server.server_close()
    assert foreign["opened"] is False and foreign["handshake"] is None
    assert own["opened"] is True and own["handshake"]["sid"]


def test_an_oversize_message_closes_only_its_own_socket(browser, app_url, app_db_url):
    invite_client_of_sam(
        app_db_url, email="olive.size@riverbend.example", name="Olive Size", password=PASSWORD
    )
    context = browser.new_context(base_url=app_url, **PHONE)
    user = context.new_page()
    sign_in(user, "olive.size@riverbend.example", PASSWORD)
    user.goto(routes.CHECKIN)
    expect(user.get_by_role("heading", name="Daily check-in")).to_be_visible()

    other = browser.new_context(base_url=app_url)
    attacker = other.new_page()
    attacker.goto(routes.SIGNIN)
    url = _event_url(app_url)
    small = attacker.evaluate(RAW_SOCKET, {"url": url, "size": 60 * 1024})
    large = attacker.evaluate(RAW_SOCKET, {"url": url, "size": 1024 * 1024})
    other.close()
    assert small["handshake"]["maxPayload"] == 64 * 1024
    assert small["opened"] is True and small["closed"] is False  # 60 KB: still open after 3 s
    assert large["opened"] is True and large["closed"] is True  # 1 MB: closed by the server

    # The other user's page, on its own socket, still saves.
    for scale, word in (("mood", "Low"), ("anxiety", "Uneasy"), ("sleep", "Poor")):
        user.locator(f"#scale-{scale}").get_by_role("radio", name=word, exact=True).click()
    expect(user.locator("#saved")).to_contain_text("Saved for today")
    assert _request(app_url, "GET", "/api/health")[0] == 200
    context.close()
