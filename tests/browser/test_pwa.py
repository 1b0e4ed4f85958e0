"""The installable app at phone size: Chromium reports no installability errors, the service
worker controls the page and is served uncached, a push delivered over the DevTools protocol
shows a notification whose click opens the check-in, and a check-in made with the browser offline
is saved on the phone, sent once the connection returns, and stored exactly once. App pages say
"saved on this phone" and then "sent"; signing out asks before dropping what could not be sent;
an iPhone browser tab gets the Add to Home Screen guide, other browsers do not.

Each client is made for its test alone on the server's own database (as a clinician's invite
would), so no other browser test's seeded client is touched.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from kapjourney import db
from kapjourney.domain.models import CheckIn, SubmissionReceipt
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    serious_violations,
    shot,
    sign_in,
)
from tests.browser.people import make_client
from tests.browser.service_worker import ask_worker, controlled, outbox, pwa_ready, requeue

PASSWORD = "tidal lantern meadow"
GENERIC_TITLE = "You have an update in KAP Journey"
SAVED = "Saved on this phone. It will send when you are back online."
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"
)


def _make_client(db_url: str, email: str, *, slug: str, clinic_phone: str = "") -> int:
    return make_client(
        db_url,
        email=email,
        password=PASSWORD,
        name="Tess Tideway",
        clinic_name="Tideway Test Clinic",
        slug=slug,
        clinic_phone=clinic_phone,
    )


def _stored(db_url: str, client_id: int) -> tuple[list[tuple], list[str]]:
    """The client's check-ins (status, answers, note, capture and update times) and the
    submission ids the server has applied for her."""
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(engine) as s:
            rows = s.exec(select(CheckIn).where(CheckIn.client_id == client_id)).all()
            receipts = s.exec(
                select(SubmissionReceipt).where(SubmissionReceipt.client_id == client_id)
            ).all()
            return (
                [
                    (
                        r.status,
                        r.mood,
                        r.anxiety,
                        r.sleep,
                        r.energy,
                        r.note,
                        r.captured_at,
                        r.updated_at,
                    )
                    for r in rows
                ],
                [r.submission_id for r in receipts],
            )
    finally:
        engine.dispose()


def _wait_for(page, probe, *, timeout: float = 30, describe=lambda: ""):
    """``probe()`` once it is truthy. Waits through the page, so Playwright keeps delivering
    DevTools events meanwhile (a plain sleep would hold them back)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            assert value, describe()
            return value
        page.wait_for_timeout(250)


@pytest.fixture
def installed_phone(browser, app_url, tmp_path):
    """A phone-sized page in a profile on disk: Chromium refuses to install from an incognito
    profile, which is what every ordinary Playwright context is."""
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        base_url=app_url,
        **PHONE,
    )
    try:
        yield context.pages[0] if context.pages else context.new_page()
    finally:
        context.close()


def test_the_app_is_installable_and_its_worker_controls_the_page(installed_phone, app_url):
    phone = installed_phone
    phone.goto("/signin")
    controlled(phone)  # clients.claim(): the very first load is already controlled
    phone.reload()
    controlled(phone)

    cdp = phone.context.new_cdp_session(phone)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"] == f"{app_url}/manifest.webmanifest"
    assert manifest["errors"] == []
    data = json.loads(manifest["data"])
    assert (data["name"], data["short_name"], data["display"]) == (
        "KAP Journey",
        "Journey",
        "standalone",
    )
    assert (data["id"], data["start_url"], data["scope"]) == ("/", "/", "/")
    icons = {(i["sizes"], i.get("purpose", "any")): i["src"] for i in data["icons"]}
    assert set(icons) == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for src in [*icons.values(), "/icons/apple-touch-icon.png", "/icons/badge-72.png"]:
        response = phone.request.get(src)
        assert response.status == 200 and response.headers["content-type"] == "image/png", src

    sw = phone.request.get("/sw.js")
    assert sw.status == 200
    assert sw.headers["cache-control"] == "no-cache"
    assert sw.headers["service-worker-allowed"] == "/"
    release = re.match(r'const RELEASE = "([^"]+)";', sw.text())
    assert release and release.group(1) != "__KJ_RELEASE__"
    scope = phone.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == f"{app_url}/"

    # Caches are named per release, and hold the offline page but never a page of the app.
    names = phone.evaluate("caches.keys()")
    assert f"kj-shell-{release.group(1)}" in names
    assert all(n.endswith(f"-{release.group(1)}") for n in names if n.startswith("kj-")), names
    cached = phone.evaluate(
        """async () => {
            const urls = [];
            for (const name of await caches.keys()) {
                for (const request of await (await caches.open(name)).keys()) {
                    urls.push(new URL(request.url).pathname);
                }
            }
            return urls;
        }"""
    )
    assert "/offline.html" in cached
    shell = ("/offline.html", "/manifest.webmanifest")
    assert all(u in shell or u.startswith(("/assets/", "/js/", "/icons/")) for u in cached), cached


def test_a_push_shows_a_notification_whose_click_opens_the_checkin(phone, app_url, app_db_url):
    email = "tess.push@tideway.example"
    _make_client(app_db_url, email, slug="tideway-push")
    context = phone.context
    context.grant_permissions(["notifications"], origin=app_url)
    sign_in(phone, email, PASSWORD)
    controlled(phone)
    assert phone.evaluate("Notification.permission") == "granted"

    cdp = context.new_cdp_session(phone)
    registrations: dict[str, str] = {}
    reports: list[dict] = []  # the worker's versions and errors, to explain a failure
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.update(
            {r["scopeURL"]: r["registrationId"] for r in event["registrations"]}
        ),
    )
    cdp.on("ServiceWorker.workerVersionUpdated", lambda event: reports.extend(event["versions"]))
    cdp.on("ServiceWorker.workerErrorReported", lambda event: reports.append(event))
    cdp.send("ServiceWorker.enable")
    registration = _wait_for(
        phone,
        lambda: registrations.get(f"{app_url}/"),
        describe=lambda: "no service worker registration",
    )
    [worker] = context.service_workers or [context.wait_for_event("serviceworker")]

    def titles() -> list[str]:
        return worker.evaluate(
            "async () => (await self.registration.getNotifications()).map((n) => n.title)"
        )

    def push(data: str) -> None:
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": app_url, "registrationId": registration, "data": data},
        )

    # A payload that cannot be read still shows a notification, with the generic words.
    push("this is not json")
    assert _wait_for(
        phone, lambda: titles() == [GENERIC_TITLE], describe=lambda: f"{titles()} {reports}"
    )

    # A reminder as the server sends it: generic text, a link, an opaque id.
    push(
        json.dumps(
            {
                "title": "Time for your daily check-in",
                "body": "It takes less than a minute.",
                "url": "/checkin",
                "tag": "kj-checkin",
                "id": "0123456789abcdef0123456789abcdef",
            }
        )
    )
    _wait_for(
        phone,
        lambda: "Time for your daily check-in" in titles(),
        describe=lambda: f"{titles()} {reports}",
    )
    shown = worker.evaluate(
        """async () => (await self.registration.getNotifications({tag: "kj-checkin"}))
            .map((n) => ({title: n.title, body: n.body, icon: n.icon, badge: n.badge,
                          data: n.data}))"""
    )
    assert shown == [
        {
            "title": "Time for your daily check-in",
            "body": "It takes less than a minute.",
            "icon": f"{app_url}/icons/icon-192.png",
            "badge": f"{app_url}/icons/badge-72.png",
            "data": {"url": "/checkin", "id": "0123456789abcdef0123456789abcdef"},
        }
    ]

    # A tap: the worker's own click logic, on the notification it showed.
    phone.goto("/today")
    worker.evaluate(
        """async () => {
            const [n] = await self.registration.getNotifications({tag: "kj-checkin"});
            await self.__kjClick(n);
        }"""
    )
    phone.wait_for_url(f"{app_url}/checkin**")
    expect(phone.get_by_role("heading", name="Daily check-in")).to_be_visible()
    assert "Time for your daily check-in" not in titles()  # the tap closed it

    # A link anywhere but this site opens the app's start page instead.
    assert worker.evaluate(
        """() => ["//evil.example/x", "https://evil.example/", "javascript:alert(1)",
                  "/\\\\evil.example", "/checkin?from=push"].map(self.__kjSafePath)"""
    ) == ["/", "/", "/", "/", "/checkin?from=push"]


def test_a_checkin_made_offline_is_sent_once_when_back_online(phone, app_url, app_db_url):
    email = "tess.offline@tideway.example"
    client_id = _make_client(
        app_db_url, email, slug="tideway-offline", clinic_phone="+1 (555) 010-4477"
    )
    context = phone.context
    sign_in(phone, email, PASSWORD)
    controlled(phone)
    # This start re-fetched the offline page with the session: it carries her clinic's number.
    pwa_ready(phone)

    context.set_offline(True)
    phone.goto("/checkin")
    expect(phone.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(phone.get_by_role("link", name=re.compile("Call your clinic"))).to_have_attribute(
        "href", "tel:+15550104477"
    )
    expect(phone.get_by_role("link", name="Emergency 911")).to_have_attribute("href", "tel:911")
    shot(phone, "pwa-01-offline")
    assert serious_violations(phone) == []
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["viewport"]["width"], f"the offline page scrolls sideways ({width}px)"

    # Submitting with an answer missing names it, and nothing is saved.
    form = phone.locator("#offline-checkin")
    form.locator("#scale-mood").get_by_role("radio", name="Good", exact=True).click()
    form.get_by_role("button", name="Save check-in").click()
    expect(phone.locator("#anxiety-error")).to_have_text("Choose how anxious you feel.")
    expect(phone.locator("#sleep-error")).to_have_text("Choose how you slept.")
    assert outbox(phone) == []

    form.locator("#scale-anxiety").get_by_role("radio", name="Calm", exact=True).click()
    form.locator("#scale-sleep").get_by_role("radio", name="Okay", exact=True).click()
    form.locator("#scale-energy").get_by_role("radio", name="High", exact=True).click()
    note = phone.get_by_label("A note for yourself or your care team (optional)")
    note.fill("Signal is patchy down here.")
    expect(phone.locator("#offline-note-count")).to_have_text("27 / 500")
    before = datetime.now(UTC)
    form.get_by_role("button", name="Save check-in").click()
    status = phone.locator("#offline-status")
    expect(status).to_have_text(SAVED)
    shot(phone, "pwa-02-saved-on-phone")
    assert serious_violations(phone) == []

    [queued] = outbox(phone)
    assert queued["kind"] == "checkin"
    assert queued["data"] == {
        "day": "today",
        "mood": 4,
        "anxiety": 1,
        "sleep": 3,
        "energy": 5,
        "note": "Signal is patchy down here.",
    }
    assert _stored(app_db_url, client_id) == ([], [])

    # Back online: the page's online handler asks the worker to replay the queue.
    context.set_offline(False)
    expect(status).to_have_text("Sent.", timeout=30_000)
    expect(phone.get_by_role("heading", name="You are back online")).to_be_visible()
    expect(phone.get_by_role("button", name="Back to the app")).to_be_visible()
    shot(phone, "pwa-03-sent")
    assert outbox(phone) == []
    rows, receipts = _stored(app_db_url, client_id)
    assert [row[:6] for row in rows] == [("submitted", 4, 1, 3, 5, "Signal is patchy down here.")]
    assert receipts == [queued["submission_id"]]
    captured = rows[0][6]
    captured = captured if captured.tzinfo else captured.replace(tzinfo=UTC)
    assert abs((captured - before).total_seconds()) < 60  # the time it was made, kept

    # The same entry replayed again (a second flush of a copy) changes nothing on the server.
    requeue(phone, queued)
    reply = ask_worker(phone, {"type": "flush"})
    assert reply == {"sent": 1, "failed": 0, "pending": 0}
    assert _stored(app_db_url, client_id) == (rows, receipts)

    # Back to the app: the check-in page shows the answers made offline.
    phone.get_by_role("button", name="Back to the app").click()
    expect(phone.get_by_role("heading", name="Daily check-in")).to_be_visible()
    mood = phone.locator("#scale-mood").get_by_role("radio", name="Good", exact=True)
    expect(mood).to_be_checked()


def test_app_pages_say_saved_on_this_phone_then_sent(phone, app_db_url):
    email = "tess.pill@tideway.example"
    client_id = _make_client(app_db_url, email, slug="tideway-pill")
    sign_in(phone, email, PASSWORD)
    controlled(phone)
    pwa_ready(phone)

    phone.context.set_offline(True)
    reply = phone.evaluate(
        """() => window.kjPwa.queue("checkin",
            {day: "today", mood: 2, anxiety: 3, sleep: 4, energy: null, note: ""})"""
    )
    assert reply["queued"] is True
    pill = phone.locator("#kj-sync-status")
    expect(pill).to_have_text(SAVED)
    expect(pill).to_have_attribute("role", "status")
    assert phone.evaluate("window.kjPwa.status()") == {"pending": 1, "failed": 0}
    shot(phone, "pwa-05-pill-saved")
    assert _stored(app_db_url, client_id) == ([], [])

    phone.context.set_offline(False)
    expect(pill).to_have_text("Sent.", timeout=30_000)
    rows, receipts = _stored(app_db_url, client_id)
    assert [row[:5] for row in rows] == [("submitted", 2, 3, 4, None)]
    assert receipts == [reply["submission_id"]]
    assert phone.evaluate("window.kjPwa.status()") == {"pending": 0, "failed": 0}

    # Nothing left to send: signing out asks nothing.
    dialogs: list[str] = []
    phone.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    phone.evaluate("() => { window.kj.signOut(); }")
    phone.wait_for_url("**/signin**")
    assert dialogs == []


def test_iphone_tabs_get_the_home_screen_guide_and_others_do_not(browser, app_url, app_db_url):
    email = "tess.iphone@tideway.example"
    _make_client(app_db_url, email, slug="tideway-iphone")
    for agent, mark in ((IPHONE_UA, "tab"), (None, None)):
        options = {**PHONE, **({"user_agent": agent} if agent else {})}
        context = browser.new_context(base_url=app_url, **options)
        try:
            page = context.new_page()
            sign_in(page, email, PASSWORD)
            page.goto("/settings")
            guide = page.locator("#install-guide")
            expect(guide).to_be_attached()
            page.wait_for_function("window.kjPwa !== undefined")
            assert page.evaluate("document.documentElement.dataset.kjIos ?? null") == mark
            if mark:
                expect(guide).to_be_visible()
                expect(guide).to_contain_text("Add to Home Screen")
                shot(page, "pwa-04-iphone-install-guide")
                assert serious_violations(page) == []
            else:
                expect(guide).to_be_hidden()
        finally:
            context.close()


def test_signing_out_asks_before_dropping_entries_that_could_not_be_sent(phone, app_db_url):
    email = "tess.signout@tideway.example"
    client_id = _make_client(app_db_url, email, slug="tideway-signout")
    sign_in(phone, email, PASSWORD)
    controlled(phone)
    pwa_ready(phone)
    phone.context.set_offline(True)
    phone.evaluate(
        """() => window.kjPwa.queue("checkin",
            {day: "today", mood: 3, anxiety: 2, sleep: 3, energy: null, note: ""})"""
    )
    asked: list[str] = []

    def answer(accept: bool):
        def handle(dialog) -> None:
            asked.append(dialog.message)
            if accept:
                dialog.accept()
            else:
                dialog.dismiss()

        return handle

    # Still offline, so the entry cannot be sent first. "Cancel": still here, the entry kept.
    phone.once("dialog", answer(False))
    phone.evaluate("window.kj.signOut()")
    assert len(asked) == 1 and "have not been sent yet" in asked[0]
    assert phone.url.endswith("/today/") or phone.url.endswith("/today")
    assert len(outbox(phone)) == 1

    # "OK": the queue is dropped before signing out, so it can never go out later under
    # another person's sign-in on this phone.
    phone.once("dialog", answer(True))
    phone.evaluate("() => { window.kj.signOut(); }")  # it navigates away: do not await it
    phone.wait_for_url("**/signin**")
    assert len(asked) == 2
    assert outbox(phone) == []
    # Back online, the next app start replays whatever is queued: nothing.
    phone.context.set_offline(False)
    phone.goto("/signin")
    pwa_ready(phone)
    assert phone.evaluate("window.kjPwa.status()") == {"pending": 0, "failed": 0}
    assert _stored(app_db_url, client_id) == ([], [])
