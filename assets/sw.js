const RELEASE = "__KJ_RELEASE__";
// KAP Journey service worker. The server's GET /sw.js puts the release id above and serves this
// file with Cache-Control: no-cache, so every deploy installs a new worker with new caches.
//
// What it does:
// - Navigations go to the network first; with no network the cached /offline.html is shown
//   (crisis numbers and an offline daily check-in). Pages are never cached: they hold health data.
// - Hashed bundles (/assets/...) are cache-first; icons, the manifest and /js/ are
//   stale-while-revalidate. Non-GET requests and /_event, /api/, /auth/, /_upload are left alone.
// - Offline queue: entries made offline wait in IndexedDB and are replayed to POST /api/sync
//   (idempotent by submission_id) on Background Sync, and whenever a page asks (load, online).
//   Each keeps the owner tag of the account it was made under; the server refuses it under any
//   other. A refusal (422, or 404: not found for this account) is final and moves the entry to
//   `failed` with its message; signed out (401) or server trouble waits for the next try.
// - Push: always shows a notification inside waitUntil (iOS revokes subscriptions otherwise);
//   the text is generic, never health data. A click opens the notification's same-origin page.
"use strict";

const SHELL_CACHE = `kj-shell-${RELEASE}`;
const ASSET_CACHE = `kj-assets-${RELEASE}`;
const OFFLINE_URL = "/offline.html";
const SHELL_URLS = [
  OFFLINE_URL,
  "/js/offline.js",
  "/icons/icon-192.png",
  "/icons/badge-72.png",
  "/icons/favicon.png",
  "/manifest.webmanifest",
];
const BYPASS = ["/_event", "/api/", "/auth/", "/_upload"];
const DB_NAME = "kj-outbox";
const PENDING = "pending";
const FAILED = "failed";
const KINDS = ["checkin", "symptom_report"];
const SYNC_TAG = "kj-sync";
const NOT_FOUND = "This could not be sent: it was not found for this account.";
// The same generic words as the server's messages (kapjourney/notifications/messages.py).
const GENERIC = {
  title: "You have an update in KAP Journey",
  body: "Open the app to see what's next.",
};
const ICON = "/icons/icon-192.png";
const BADGE = "/icons/badge-72.png";

// --- Lifecycle ----------------------------------------------------------------------------------

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // Each on its own, so a missing icon never keeps the offline page from being stored.
      await Promise.all(
        SHELL_URLS.map((url) =>
          cache.add(new Request(url, { credentials: "same-origin", cache: "no-cache" })).catch(
            () => undefined,
          ),
        ),
      );
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const keep = new Set([SHELL_CACHE, ASSET_CACHE]);
      const names = await caches.keys();
      await Promise.all(
        names.filter((n) => n.startsWith("kj-") && !keep.has(n)).map((n) => caches.delete(n)),
      );
      await self.clients.claim();
    })(),
  );
});

// --- Fetch --------------------------------------------------------------------------------------

function bypassed(url) {
  const path = url.pathname;
  return BYPASS.some((prefix) => path.startsWith(prefix) || `${path}/` === prefix);
}

async function offlinePage() {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(OFFLINE_URL);
  if (cached) return cached;
  return new Response(
    "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport " +
      'content="width=device-width, initial-scale=1"><title>Offline</title>' +
      "<h1>You are offline</h1><p>Check your connection and try again.</p>" +
      '<p>In an emergency, call your local emergency number.</p>',
    { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } },
  );
}

async function networkFirstNavigation(request) {
  try {
    return await fetch(request);
  } catch (err) {
    return offlinePage();
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(ASSET_CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") await cache.put(request, response.clone());
  return response;
}

function fetchAndStore(request, cacheName) {
  return fetch(request)
    .then(async (response) => {
      if (response.ok && response.type === "basic") {
        const cache = await caches.open(cacheName);
        await cache.put(request, response.clone());
      }
      return response;
    })
    .catch(() => undefined);
}

async function cachedOr(request, cacheName, refresh) {
  const cache = await caches.open(cacheName);
  const cached = await cache.match(request);
  return cached || (await refresh) || Response.error();
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || bypassed(url)) return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirstNavigation(request));
    return;
  }
  if (url.pathname.startsWith("/assets/")) {
    event.respondWith(cacheFirst(request));
    return;
  }
  if (
    url.pathname.startsWith("/icons/") ||
    url.pathname.startsWith("/js/") ||
    url.pathname === "/manifest.webmanifest"
  ) {
    // Stale-while-revalidate: the cached copy now, a fresh one stored for next time.
    const cacheName = SHELL_URLS.includes(url.pathname) ? SHELL_CACHE : ASSET_CACHE;
    const refresh = fetchAndStore(request, cacheName);
    event.respondWith(cachedOr(request, cacheName, refresh));
    event.waitUntil(refresh);
  }
  // Everything else (pages' data, /sw.js itself, /offline.html fetched directly): the network.
});

// --- Offline queue (IndexedDB) ------------------------------------------------------------------

function openDb() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains(PENDING)) {
        db.createObjectStore(PENDING, { keyPath: "submission_id" });
      }
      if (!db.objectStoreNames.contains(FAILED)) {
        db.createObjectStore(FAILED, { keyPath: "submission_id" });
      }
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

async function withStores(names, mode, work) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(names, mode);
      let result;
      Promise.resolve(work(tx)).then((value) => {
        result = value;
      }, reject);
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("aborted"));
    });
  } finally {
    db.close();
  }
}

function now() {
  return new Date().toISOString();
}

function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function validItem(item) {
  return (
    item &&
    typeof item === "object" &&
    typeof item.submission_id === "string" &&
    /^[A-Za-z0-9-]{8,64}$/.test(item.submission_id) &&
    KINDS.includes(item.kind) &&
    typeof item.captured_at === "string" &&
    item.data &&
    typeof item.data === "object" &&
    (item.owner === undefined ||
      (typeof item.owner === "string" && /^[0-9a-f]{8,64}$/.test(item.owner)))
  );
}

async function enqueue(item) {
  const record = {
    submission_id: item.submission_id,
    kind: item.kind,
    captured_at: item.captured_at,
    data: item.data,
    queued_at: now(),
  };
  if (item.owner !== undefined) record.owner = item.owner;
  await withStores([PENDING], "readwrite", (tx) => req(tx.objectStore(PENDING).put(record)));
  if (self.registration.sync) {
    try {
      await self.registration.sync.register(SYNC_TAG);
    } catch (err) {
      // Background Sync unavailable or refused: pages flush on load and when back online.
    }
  }
  await broadcast({ type: "kj-queued", submission_id: record.submission_id, kind: record.kind });
}

async function counts() {
  return withStores([PENDING, FAILED], "readonly", async (tx) => {
    const [pending, failed] = await Promise.all([
      req(tx.objectStore(PENDING).count()),
      req(tx.objectStore(FAILED).count()),
    ]);
    return { pending, failed };
  });
}

async function pendingItems() {
  const items = await withStores([PENDING], "readonly", (tx) =>
    req(tx.objectStore(PENDING).getAll()),
  );
  return items.sort((a, b) => String(a.captured_at).localeCompare(String(b.captured_at)));
}

async function clearQueue() {
  await withStores([PENDING, FAILED], "readwrite", (tx) =>
    Promise.all([req(tx.objectStore(PENDING).clear()), req(tx.objectStore(FAILED).clear())]),
  );
}

async function broadcast(message) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) client.postMessage(message);
}

// Outcome of one replay: "sent" (stored or a duplicate), "failed" (the server refused it for
// good) or "later" (offline, signed out, server trouble: keep it).
async function sendOne(item) {
  let response;
  try {
    response = await fetch("/api/sync", {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({
        kind: item.kind,
        submission_id: item.submission_id,
        captured_at: item.captured_at,
        data: item.data,
        owner: item.owner, // left out when undefined (an entry from before owner tags)
      }),
    });
  } catch (err) {
    return { outcome: "later", network: true };
  }
  if (response.ok || response.status === 409) {
    let support = false; // a replayed report that calls for the support screen
    try {
      support = Boolean((await response.json()).support);
    } catch (err) {
      support = false;
    }
    return { outcome: "sent", support };
  }
  if (response.status === 422 || response.status === 400 || response.status === 413) {
    let errors = {};
    try {
      const body = await response.json();
      if (body && typeof body.errors === "object" && body.errors) errors = body.errors;
    } catch (err) {
      errors = {};
    }
    return { outcome: "failed", errors };
  }
  if (response.status === 404) {
    // Signed out is 401; 404 means this account has no such thing, and never will.
    return { outcome: "failed", errors: { form: NOT_FOUND } };
  }
  return { outcome: "later", network: false };
}

async function flushNow() {
  const result = { sent: 0, failed: 0, pending: 0, network: false };
  const items = await pendingItems();
  for (const item of items) {
    const sent = await sendOne(item);
    if (sent.outcome === "sent") {
      await withStores([PENDING], "readwrite", (tx) =>
        req(tx.objectStore(PENDING).delete(item.submission_id)),
      );
      result.sent += 1;
      await broadcast({
        type: "kj-sent",
        submission_id: item.submission_id,
        kind: item.kind,
        support: sent.support,
      });
    } else if (sent.outcome === "failed") {
      await withStores([PENDING, FAILED], "readwrite", (tx) =>
        Promise.all([
          req(tx.objectStore(FAILED).put({ ...item, errors: sent.errors, failed_at: now() })),
          req(tx.objectStore(PENDING).delete(item.submission_id)),
        ]),
      );
      result.failed += 1;
      await broadcast({
        type: "kj-failed",
        submission_id: item.submission_id,
        kind: item.kind,
        errors: sent.errors,
      });
    } else {
      // Offline, signed out or the server is struggling: the rest would fare no better.
      result.network = Boolean(sent.network);
      break;
    }
  }
  result.pending = (await counts()).pending;
  return result;
}

// One flush at a time: a flush asked for while another runs starts when it ends, so an item is
// never sent twice at once and one queued meanwhile is still picked up.
let flushChain = Promise.resolve();
function flush() {
  const run = flushChain.then(flushNow, flushNow);
  flushChain = run.catch(() => undefined);
  return run;
}

self.addEventListener("sync", (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil(
    flush().then((result) => {
      // Rejecting asks the browser to try this sync again later.
      if (result.pending > 0 && result.network) throw new Error("still offline");
    }),
  );
});

// --- Messages from pages (each answered over its MessageChannel port) ---------------------------

async function refreshOfflinePage() {
  const response = await fetch(OFFLINE_URL, { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) return { refreshed: false };
  const cache = await caches.open(SHELL_CACHE);
  await cache.put(OFFLINE_URL, response);
  return { refreshed: true };
}

// What waits to be sent, by reference only, so the offline page can mark its reports saved.
async function pendingRefs() {
  return (await pendingItems()).map((item) => ({
    submission_id: item.submission_id,
    kind: item.kind,
    dosing_session_id: item.data.dosing_session_id,
    offset_minutes: item.data.offset_minutes,
  }));
}

async function handleMessage(data) {
  switch (data && data.type) {
    case "queue":
      if (!validItem(data.item)) return { queued: false, error: "invalid" };
      await enqueue(data.item);
      return { queued: true, submission_id: data.item.submission_id };
    case "flush": {
      const { sent, failed, pending } = await flush();
      return { sent, failed, pending };
    }
    case "status":
      return counts();
    case "pending":
      return { items: await pendingRefs() };
    case "clear":
      await flushChain; // let a replay in progress finish before the queue is dropped
      await clearQueue();
      return { cleared: true };
    case "refresh-offline":
      return refreshOfflinePage();
    default:
      return { error: "unknown message" };
  }
}

self.addEventListener("message", (event) => {
  if (event.origin && event.origin !== self.location.origin) return;
  const port = event.ports && event.ports[0];
  event.waitUntil(
    handleMessage(event.data)
      .catch((err) => ({ error: String((err && err.name) || "error") }))
      .then((reply) => {
        if (port) port.postMessage(reply);
      }),
  );
});

// --- Push and notification clicks ---------------------------------------------------------------

function safePath(value) {
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//")) return "/";
  if (value.includes("\\") || /[\u0000-\u001f]/.test(value)) return "/";
  return value;
}

function shortText(value, limit) {
  return typeof value === "string" && value.trim() ? value.trim().slice(0, limit) : "";
}

function notificationFrom(event) {
  let data = {};
  try {
    const parsed = event.data ? event.data.json() : {};
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) data = parsed;
  } catch (err) {
    data = {};
  }
  const title = shortText(data.title, 80);
  const id = typeof data.id === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(data.id) ? data.id : "";
  return {
    title: title || GENERIC.title,
    options: {
      body: title ? shortText(data.body, 200) : GENERIC.body,
      icon: ICON,
      badge: BADGE,
      tag: shortText(data.tag, 64) || undefined,
      data: { url: safePath(data.url), id },
    },
  };
}

function markSeen(id, what) {
  if (!id) return Promise.resolve();
  return fetch(`/api/notifications/${encodeURIComponent(id)}/seen`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ event: what }),
  }).catch(() => undefined);
}

self.addEventListener("push", (event) => {
  const { title, options } = notificationFrom(event);
  event.waitUntil(
    self.registration
      .showNotification(title, options)
      .then(() => markSeen(options.data.id, "shown")),
  );
});

async function openPage(rawUrl) {
  const path = safePath(rawUrl);
  const target = new URL(path, self.location.origin).href;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const ours = windows.find((w) => new URL(w.url).origin === self.location.origin);
  if (ours) {
    try {
      await ours.focus();
    } catch (err) {
      // Focusing needs the click's user activation; navigating does not.
    }
    try {
      const navigated = await ours.navigate(target);
      if (navigated) return navigated;
    } catch (err) {
      // An uncontrolled window cannot be navigated from here: open a new one.
    }
  }
  return self.clients.openWindow(target);
}

async function handleClick(notification) {
  const data = (notification && notification.data) || {};
  if (notification) notification.close();
  await Promise.all([markSeen(data.id, "clicked"), openPage(data.url)]);
}

self.addEventListener("notificationclick", (event) => {
  event.waitUntil(handleClick(event.notification));
});

self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil(
    (async () => {
      const keyResponse = await fetch("/api/push/public-key", { credentials: "same-origin" });
      if (!keyResponse.ok) return;
      const { key } = await keyResponse.json();
      const subscription = await self.registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: base64UrlToBytes(key),
      });
      const permission = self.Notification ? self.Notification.permission : "granted";
      await fetch("/api/push/subscriptions", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ subscription: subscription.toJSON(), permission }),
      });
    })().catch(() => undefined),
  );
});

function base64UrlToBytes(value) {
  const text = String(value || "").replace(/-/g, "+").replace(/_/g, "/");
  const padded = text + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

// For tests driving the worker from the DevTools protocol (a synthetic NotificationEvent cannot
// extend its lifetime): the same click and path logic the real events use.
self.__kjClick = handleClick;
self.__kjSafePath = safePath;
