// The offline page (GET /offline.html, shown by the service worker when a page cannot load):
// saves today's check-in on this phone through the service worker's queue, or sends it straight
// away when there is a connection, and says "Sent." once the server has it.
(function () {
  "use strict";
  var SENT = "Sent.";
  var NO_SAVE = "This phone could not save your answers. Please try again when you are online.";
  var form = document.getElementById("offline-checkin");
  var status = document.getElementById("offline-status");
  var SAVED = status ? status.getAttribute("data-saved") : "";
  var mine = null; // the submission_id of the entry made on this page

  var retry = document.getElementById("offline-retry");
  retry.addEventListener("click", function () { window.location.reload(); });

  // The page was rendered for "offline"; say so when the connection comes and goes.
  function showConnection() {
    var online = navigator.onLine;
    document.getElementById("offline-title").textContent =
      online ? "You are back online" : "You are offline";
    document.getElementById("offline-lead").textContent = online
      ? "Go back to the app whenever you are ready."
      : "This page will work again when your phone has a connection.";
    retry.textContent = online ? "Back to the app" : "Try again";
  }
  window.addEventListener("online", showConnection);
  window.addEventListener("offline", showConnection);

  function say(text, kind) {
    status.textContent = text;
    status.className = "status " + (kind || "");
  }

  // --- The service worker ------------------------------------------------------------------
  function worker() {
    if (!("serviceWorker" in navigator)) return Promise.resolve(null);
    var controller = navigator.serviceWorker.controller;
    if (controller) return Promise.resolve(controller);
    return navigator.serviceWorker.getRegistration("/").then(function (reg) {
      return (reg && reg.active) || null;
    }, function () { return null; });
  }

  function ask(message) {
    return worker().then(function (w) {
      if (!w) throw new Error("no service worker");
      return new Promise(function (resolve, reject) {
        var channel = new MessageChannel();
        var timer = setTimeout(function () { reject(new Error("timeout")); }, 20000);
        channel.port1.onmessage = function (event) { clearTimeout(timer); resolve(event.data); };
        w.postMessage(message, [channel.port2]);
      });
    });
  }

  function flush() {
    return ask({ type: "flush" }).catch(function () { return null; });
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      var data = event.data || {};
      if (data.type === "kj-sent" && mine !== null && data.submission_id === mine) {
        say(SENT, "sent");
      } else if (data.type === "kj-failed" && data.submission_id === mine) {
        showServerErrors(data.errors || {});
      }
    });
    navigator.serviceWorker.startMessages();
  }
  window.addEventListener("online", function () { flush(); });
  if (navigator.onLine) flush();

  if (!form) return; // staff see the crisis card only

  // --- The note counter ----------------------------------------------------------------------
  var note = document.getElementById("offline-note");
  var count = document.getElementById("offline-note-count");
  var noteError = document.getElementById("offline-note-error");
  var formError = document.getElementById("offline-form-error");
  var max = parseInt(note.getAttribute("data-max"), 10);

  function noteProblem() {
    var over = note.value.trim().length - max;
    if (over <= 0) return "";
    return "Notes can be up to " + max + " characters. Please shorten it by " +
      over.toLocaleString("en-US") + " character" + (over === 1 ? "" : "s") + ".";
  }

  function updateCount() {
    var length = note.value.length;
    count.textContent = length + " / " + max;
    count.className = length > max ? "count over" : "count";
  }
  note.addEventListener("input", function () {
    updateCount();
    if (noteError.textContent) noteError.textContent = noteProblem();
  });
  updateCount();

  // --- Answers and their problems ---------------------------------------------------------
  var scales = Array.prototype.slice.call(form.querySelectorAll("fieldset.scale"));

  function fieldError(key, text) {
    var box = document.getElementById(key + "-error");
    if (box) box.textContent = text;
    var fieldset = document.getElementById("scale-" + key);
    if (fieldset) fieldset.setAttribute("aria-invalid", text ? "true" : "false");
  }

  form.addEventListener("change", function (event) {
    if (event.target && event.target.type === "radio") fieldError(event.target.name, "");
  });

  function collect() {
    var data = { day: "today", note: note.value.trim() };
    var problems = 0;
    var first = null;
    scales.forEach(function (fieldset) {
      var key = fieldset.id.replace(/^scale-/, "");
      var chosen = fieldset.querySelector("input:checked");
      data[key] = chosen ? parseInt(chosen.value, 10) : null;
      var missing = !chosen && fieldset.getAttribute("data-required") === "true";
      fieldError(key, missing ? fieldset.getAttribute("data-missing") : "");
      if (missing) {
        problems += 1;
        first = first || fieldset.querySelector("input");
      }
    });
    noteError.textContent = noteProblem();
    if (noteError.textContent) {
      problems += 1;
      first = first || note;
    }
    return { data: data, problems: problems, first: first };
  }

  function showServerErrors(errors) {
    var general = [];
    Object.keys(errors).forEach(function (key) {
      if (document.getElementById("scale-" + key)) fieldError(key, String(errors[key]));
      else if (key === "note") noteError.textContent = String(errors[key]);
      else general.push(String(errors[key]));
    });
    formError.textContent = general.join(" ") || "Please check your answers.";
    say("", "");
    form.hidden = false;
  }

  // --- Saving -------------------------------------------------------------------------------
  async function sendNow(item) {
    var response = await fetch("/api/sync", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(item),
    });
    var body = {};
    try { body = await response.json(); } catch (err) { body = {}; }
    return { status: response.status, body: body };
  }

  async function save(item) {
    if (navigator.onLine) {
      try {
        var sent = await sendNow(item);
        if (sent.status >= 200 && sent.status < 300) return "sent";
        if (sent.status === 422) {
          showServerErrors((sent.body && sent.body.errors) || {});
          return "invalid";
        }
        // Signed out or the server is struggling: keep it on the phone and try later.
      } catch (err) {
        // No connection after all: keep it on the phone.
      }
    }
    try {
      var reply = await ask({ type: "queue", item: item });
      return reply && reply.queued ? "queued" : "unsaved";
    } catch (err) {
      return "unsaved";
    }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    formError.textContent = "";
    var answers = collect();
    if (answers.problems) {
      formError.textContent = answers.problems === 1
        ? "One answer needs your attention."
        : answers.problems + " answers need your attention.";
      if (answers.first) answers.first.focus();
      return;
    }
    var item = {
      kind: "checkin",
      submission_id: mine || crypto.randomUUID(),
      captured_at: new Date().toISOString(),
      data: answers.data,
    };
    mine = item.submission_id;
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    var outcome = await save(item);
    button.disabled = false;
    if (outcome === "sent") {
      form.hidden = true;
      say(SENT, "sent");
    } else if (outcome === "queued") {
      form.hidden = true;
      say(SAVED, "saved");
      if (navigator.onLine) flush();
    } else if (outcome === "unsaved") {
      formError.textContent = NO_SAVE;
    }
  });
})();
