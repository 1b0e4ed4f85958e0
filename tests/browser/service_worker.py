"""Reaching the app's service worker from a test's page: wait until it controls the page, send it
a message, and read its outbox (IndexedDB, same origin, so the page can read it)."""

from __future__ import annotations


def controlled(page) -> None:
    """Wait until a service worker controls ``page``."""
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=30_000)


def ask_worker(page, message: dict) -> dict:
    """Send ``message`` to the page's service worker and return its reply."""
    return page.evaluate(
        """(message) => new Promise((resolve) => {
            const channel = new MessageChannel();
            channel.port1.onmessage = (event) => resolve(event.data);
            navigator.serviceWorker.controller.postMessage(message, [channel.port2]);
        })""",
        message,
    )


def outbox(page, store: str = "pending") -> list[dict]:
    """What the service worker's IndexedDB queue holds in ``store`` ("pending" or "failed")."""
    return page.evaluate(
        """(store) => new Promise((resolve, reject) => {
            const open = indexedDB.open("kj-outbox");
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
                const db = open.result;
                if (!db.objectStoreNames.contains(store)) { db.close(); resolve([]); return; }
                const all = db.transaction(store).objectStore(store).getAll();
                all.onsuccess = () => { db.close(); resolve(all.result); };
                all.onerror = () => reject(all.error);
            };
        })""",
        store,
    )


def requeue(page, item: dict) -> None:
    """Put a copy of ``item`` back in the worker's pending queue, as if it had never been sent."""
    page.evaluate(
        """(item) => new Promise((resolve, reject) => {
            const open = indexedDB.open("kj-outbox");
            open.onsuccess = () => {
                const tx = open.result.transaction("pending", "readwrite");
                tx.objectStore("pending").put(item);
                tx.oncomplete = () => { open.result.close(); resolve(); };
                tx.onerror = () => reject(tx.error);
            };
        })""",
        item,
    )


# pwa.js is a deferred script: a document that has only just replaced the last one may not
# have run it yet. Wait for it there rather than reading ``kjPwa`` of undefined.
_PWA_READY = """async () => {
    while (!window.kjPwa) await new Promise((resolve) => setTimeout(resolve, 25));
    await window.kjPwa.ready;
}"""


def pwa_ready(page, attempts: int = 5) -> None:
    """Wait for pwa.js's start-up work (the offline page re-fetched for whoever is signed in).
    A page that is still settling (a redirect, the reload after sign-out clears site data) may
    navigate once more: wait for it to load and ask again."""
    from playwright.sync_api import Error

    for attempt in range(attempts):
        try:
            page.wait_for_load_state("load")
            page.evaluate(_PWA_READY)
            return
        except Error as problem:
            if "context was destroyed" not in str(problem) or attempt == attempts - 1:
                raise


def signed_out_page_ready(page, sign_out: str = "() => { window.kj.signOut(); }") -> None:
    """Sign out with ``sign_out`` and wait for pwa.js's start-up work in the sign-in page's own,
    new document. The URL alone can match early (the app's router may reach /signin in the old
    document first), so the old document is marked and the wait is for one without the mark."""
    page.evaluate("() => { window.kjBeforeSignOut = true; }")
    page.evaluate(sign_out)
    page.wait_for_url("**/signin**")
    page.wait_for_function(
        "() => !window.kjBeforeSignOut && document.readyState === 'complete'", timeout=30_000
    )
    pwa_ready(page)
