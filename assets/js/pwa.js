// KAP Journey as an installed app: registers the service worker, replays entries saved on this
// phone when the connection returns, keeps the push subscription saved on the server, and tells
// the page whether it runs in an iPhone browser tab (where reminders need "Add to Home Screen").
// Loaded on every page from <head> with defer. Exposes window.kjPwa.
(function () {
  "use strict";
  var SAVED = "Saved on this phone. It will send when you are back online.";
  var SENT = "Sent.";
  var NOT_SENT = "A saved entry could not be sent. Please open it and enter it again.";
  var SENT_SUPPORT = "Sent. Your care team has been told and will contact you.";
  var PUSH_ERRORS = {
    unsupported: "This browser cannot show reminders. On an iPhone, add KAP Journey to your " +
      "Home Screen first, then turn reminders on from the app.",
    denied: "Reminders are blocked for this site. Allow notifications in your browser or " +
      "phone settings, then try again.",
    dismissed: "Reminders were not turned on. Tap the button again and choose Allow.",
    failed: "Reminders could not be turned on. Please try again in a moment.",
    offline: "No connection. Check your signal and try again.",
  };
  var root = document.documentElement;
  var supported = "serviceWorker" in navigator;

  // --- iPhone and iPad: a browser tab or the Home Screen app? -------------------------------
  function markIos() {
    var ua = navigator.userAgent || "";
    var ios = /iPad|iPhone|iPod/.test(ua) ||
      (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
    if (!ios) return;
    var standalone = navigator.standalone === true ||
      (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches);
    root.dataset.kjIos = standalone ? "app" : "tab";
  }

  // --- Talking to the service worker ---------------------------------------------------------
  function withTimeout(promise, ms) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
      promise.then(
        function (value) { clearTimeout(timer); resolve(value); },
        function (err) { clearTimeout(timer); reject(err); }
      );
    });
  }

  function ask(message, ms) {
    if (!supported) return Promise.reject(new Error("unsupported"));
    return withTimeout(navigator.serviceWorker.ready, ms || 10000).then(function (reg) {
      var worker = navigator.serviceWorker.controller || reg.active;
      if (!worker) throw new Error("no worker");
      return withTimeout(new Promise(function (resolve) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function (event) { resolve(event.data); };
        worker.postMessage(message, [channel.port2]);
      }), ms || 20000);
    });
  }

  // --- The status pill ---------------------------------------------------------------------
  // The live region is in the page from the start (a region that appears together with its
  // words is often not read out); the pill inside it shows only while it has something to say.
  var region = null;
  var hideTimer = null;
  function statusRegion() {
    if (!region && document.body) {
      region = document.createElement("div");
      region.id = "kj-sync-status";
      region.setAttribute("role", "status");
      region.setAttribute("aria-live", "polite");
      region.style.cssText = [
        "position:fixed", "left:0", "right:0", "display:flex", "justify-content:center",
        "pointer-events:none", "z-index:2147483000",
        // Above the client's tab bar (about 56px high) at the bottom of the screen.
        "bottom:calc(76px + env(safe-area-inset-bottom, 0px))",
      ].join(";");
      document.body.appendChild(region);
    }
    return region;
  }

  function showStatus(text, settle) {
    var box = statusRegion();
    if (!box) return;
    var pill = document.createElement("span");
    pill.textContent = text;
    pill.style.cssText = [
      "max-width:calc(100vw - 32px)", "padding:10px 16px", "border-radius:999px",
      "background:#1f2937", "color:#fff", "font:500 15px/1.35 system-ui,sans-serif",
      "box-shadow:0 4px 14px rgba(0,0,0,.25)", "text-align:center", "pointer-events:auto",
    ].join(";");
    box.replaceChildren(pill);
    clearTimeout(hideTimer);
    if (settle) hideTimer = setTimeout(function () { box.replaceChildren(); }, 6000);
  }

  function onWorkerMessage(event) {
    var data = event.data || {};
    if (data.type === "kj-queued") showStatus(SAVED, false);
    else if (data.type === "kj-sent") showStatus(data.support ? SENT_SUPPORT : SENT, true);
    else if (data.type === "kj-failed") showStatus(failedText(data.errors), true);
  }

  // The server's reason when it gave one (another account, not found), else the general one.
  function failedText(errors) {
    var reason = errors && typeof errors.form === "string" ? errors.form.slice(0, 200) : "";
    return reason || NOT_SENT;
  }

  // --- Offline queue -----------------------------------------------------------------------
  function flush() {
    return ask({ type: "flush" }).then(function (result) {
      if (result && result.pending > 0) showStatus(SAVED, false);
      return result;
    }, function () { return { sent: 0, failed: 0, pending: 0, unavailable: true }; });
  }

  function status() {
    return ask({ type: "status" }).catch(function () { return { pending: 0, failed: 0 }; });
  }

  function queue(kind, data) {
    var item = {
      kind: kind,
      submission_id: crypto.randomUUID(),
      captured_at: new Date().toISOString(),
      data: data || {},
    };
    return ask({ type: "queue", item: item }).then(function (reply) {
      if (reply && reply.queued && navigator.onLine) flush();
      return reply;
    }, function () { return { queued: false, error: "unavailable" }; });
  }

  function refreshOffline() {
    return ask({ type: "refresh-offline" }).catch(function () { return { refreshed: false }; });
  }

  // Before signing out: send what can be sent, then forget the rest, so nothing saved on this
  // phone goes out later under someone else's sign-in. Returns false when the person chose to
  // stay signed in to keep entries that could not be sent yet.
  function prepareSignOut() {
    if (!supported || !navigator.serviceWorker.controller) return Promise.resolve(true);
    return flush().then(function (result) {
      if (result && result.pending > 0 && !window.confirm(
        "Some entries saved on this phone have not been sent yet. If you sign out now they " +
        "will be deleted. Sign out anyway?"
      )) return false;
      var done = function () { return true; };
      return ask({ type: "clear" }).then(done, done);
    });
  }

  // --- Push subscription -------------------------------------------------------------------
  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  }

  function saveSubscription(sub, permission) {
    return postJSON("/api/push/subscriptions", {
      subscription: sub.toJSON(),
      permission: permission,
    });
  }

  function keyBytes(key) {
    var text = String(key || "").replace(/-/g, "+").replace(/_/g, "/");
    var padded = text + "=".repeat((4 - (text.length % 4)) % 4);
    return Uint8Array.from(atob(padded), function (c) { return c.charCodeAt(0); });
  }

  function pushFailure(code) {
    return { ok: false, errors: { push: PUSH_ERRORS[code] || PUSH_ERRORS.failed } };
  }

  async function subscribe() {
    if (!supported || !("PushManager" in window) || !("Notification" in window)) {
      return pushFailure("unsupported");
    }
    // Ask first, while the click's user activation is fresh (Safari insists on it).
    var permission = await Notification.requestPermission();
    if (permission !== "granted") {
      return pushFailure(permission === "denied" ? "denied" : "dismissed");
    }
    var reg, sub;
    try {
      reg = await withTimeout(navigator.serviceWorker.ready, 10000);
      var keyResponse = await fetch("/api/push/public-key", { credentials: "same-origin" });
      if (!keyResponse.ok) return pushFailure("failed");
      var key = (await keyResponse.json()).key;
      sub = await reg.pushManager.getSubscription();
      if (!sub) {
        sub = await reg.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(key),
        });
      }
    } catch (err) {
      return pushFailure(err instanceof TypeError ? "offline" : "failed");
    }
    var response;
    try {
      response = await saveSubscription(sub, permission);
    } catch (err) {
      return pushFailure("offline");
    }
    var body = {};
    try { body = await response.json(); } catch (err) { body = {}; }
    if (response.ok) return body && typeof body === "object" ? body : { ok: true };
    if (body && body.errors) return { ok: false, errors: body.errors };
    return pushFailure("failed");
  }

  async function unsubscribe() {
    if (!supported) return { ok: true };
    try {
      var reg = await withTimeout(navigator.serviceWorker.ready, 10000);
      var sub = await reg.pushManager.getSubscription();
      if (!sub) return { ok: true };
      var response = await postJSON("/api/push/unsubscribe", { endpoint: sub.endpoint });
      await sub.unsubscribe();
      return response.ok ? { ok: true } : pushFailure("failed");
    } catch (err) {
      return pushFailure(err instanceof TypeError ? "offline" : "failed");
    }
  }

  // Every app start: tell the server what this device allows, and save its subscription again
  // (push services rotate them). 404 means signed out: nothing to do. The sign-in and invite
  // pages are never signed in, so they do not ask (a 404 there is only noise in the console).
  async function resave() {
    if (!("Notification" in window) || !("PushManager" in window)) return;
    if (/^\/(signin|invite)(\/|$)/.test(window.location.pathname)) return;
    var permission = Notification.permission;
    try {
      await postJSON("/api/push/permission", { permission: permission });
      if (permission !== "granted") return;
      var reg = await withTimeout(navigator.serviceWorker.ready, 10000);
      var sub = await reg.pushManager.getSubscription();
      if (sub) await saveSubscription(sub, permission);
    } catch (err) {
      // Offline or not signed in: the next start tries again.
    }
  }

  // --- Start ---------------------------------------------------------------------------------
  markIos();
  statusRegion();
  var ready = Promise.resolve();
  if (supported) {
    navigator.serviceWorker.addEventListener("message", onWorkerMessage);
    navigator.serviceWorker.startMessages();
    ready = navigator.serviceWorker
      .register("/sw.js", { scope: "/", updateViaCache: "none" })
      .then(function () { return refreshOffline(); })
      .then(function () { return flush(); })
      .catch(function () { return undefined; });
    window.addEventListener("online", function () { flush(); });
    resave();
  }

  window.kjPwa = {
    ready: ready,
    subscribe: subscribe,
    unsubscribe: unsubscribe,
    queue: queue,
    flush: flush,
    status: status,
    refreshOffline: refreshOffline,
    prepareSignOut: prepareSignOut,
  };
})();
