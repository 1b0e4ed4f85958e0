// The offline page (GET /offline.html, shown by the service worker when a page cannot load):
// saves today's check-in, and each after-session report that is due, on this phone through the
// service worker's queue (or sends it straight away when there is a connection), and says
// "Sent." once the server has it. Every entry carries the page's owner tag, so an entry saved
// under one account is never applied to another on a shared phone.
//
// A report's form shows once it is due on this phone's clock. A worrying answer (one the
// clinic's safety rules, rendered into the page, treat as urgent or an emergency) shows the
// crisis card at once: the page cannot triage offline. When the server answers that a sent
// report needs support, the support message shows.
(function () {
  "use strict";
  var SENT = "Sent.";
  var REPORT_SENT = "Sent. Thank you: your answers are with your care team.";
  var NO_SAVE = "This phone could not save your answers. Please try again when you are online.";
  var NOT_FOUND = "This could not be sent: it was not found for this account.";
  var status = document.getElementById("offline-status");
  var SAVED = status ? status.getAttribute("data-saved") : "";
  var main = document.querySelector("main");
  var OWNER = (main && main.getAttribute("data-owner")) || "";
  var handlers = {}; // submission_id -> {sent: fn(support), failed: fn(errors)}

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
      var handler = typeof data.submission_id === "string" && handlers[data.submission_id];
      if (!handler) return;
      if (data.type === "kj-sent") handler.sent(Boolean(data.support));
      else if (data.type === "kj-failed") handler.failed(data.errors || {});
    });
    navigator.serviceWorker.startMessages();
  }

  // --- Saving (shared by the check-in and the reports) --------------------------------------
  function entry(kind, sid, data) {
    var item = {
      kind: kind,
      submission_id: sid || crypto.randomUUID(),
      captured_at: new Date().toISOString(),
      data: data,
    };
    if (OWNER) item.owner = OWNER;
    return item;
  }

  async function sendNow(item) {
    var response = await fetch("/api/sync", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(item),
    });
    var body = {};
    try { body = await response.json(); } catch (err) { body = {}; }
    return { status: response.status, body: body || {} };
  }

  // {outcome: "sent" | "invalid" | "queued" | "unsaved", support, errors}
  async function save(item) {
    if (navigator.onLine) {
      try {
        var sent = await sendNow(item);
        if (sent.status >= 200 && sent.status < 300) {
          return { outcome: "sent", support: Boolean(sent.body.support) };
        }
        if (sent.status === 422 || sent.status === 400 || sent.status === 413) {
          return { outcome: "invalid", errors: sent.body.errors || {} };
        }
        if (sent.status === 404) return { outcome: "invalid", errors: { form: NOT_FOUND } };
        // Signed out or the server is struggling: keep it on the phone and try later.
      } catch (err) {
        // No connection after all: keep it on the phone.
      }
    }
    try {
      var reply = await ask({ type: "queue", item: item });
      return { outcome: reply && reply.queued ? "queued" : "unsaved" };
    } catch (err) {
      return { outcome: "unsaved" };
    }
  }

  function problemsText(count) {
    return count === 1 ? "One answer needs your attention." :
      count + " answers need your attention.";
  }

  // A note with its counter and its length check.
  function noteField(note, count, error) {
    var max = parseInt(note.getAttribute("data-max"), 10);
    function problem() {
      var over = note.value.trim().length - max;
      if (over <= 0) return "";
      return "Notes can be up to " + max.toLocaleString("en-US") + " characters. Please " +
        "shorten it by " + over.toLocaleString("en-US") + " character" +
        (over === 1 ? "" : "s") + ".";
    }
    function updateCount() {
      var length = note.value.length;
      count.textContent = length + " / " + max;
      count.className = length > max ? "count over" : "count";
    }
    note.addEventListener("input", function () {
      updateCount();
      if (error.textContent) error.textContent = problem();
    });
    updateCount();
    return { problem: problem };
  }

  // --- The daily check-in --------------------------------------------------------------------
  function setUpCheckin(form) {
    var mine = null; // the submission_id of the entry made on this page
    var note = document.getElementById("offline-note");
    var noteError = document.getElementById("offline-note-error");
    var formError = document.getElementById("offline-form-error");
    var noteCheck = noteField(note, document.getElementById("offline-note-count"), noteError);
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
      noteError.textContent = noteCheck.problem();
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

    function watch(sid) {
      mine = sid;
      handlers[sid] = {
        sent: function () { say(SENT, "sent"); },
        failed: showServerErrors,
      };
    }

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      formError.textContent = "";
      var answers = collect();
      if (answers.problems) {
        formError.textContent = problemsText(answers.problems);
        if (answers.first) answers.first.focus();
        return;
      }
      var item = entry("checkin", mine, answers.data);
      watch(item.submission_id);
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      var saved = await save(item);
      button.disabled = false;
      if (saved.outcome === "sent") {
        form.hidden = true;
        say(SENT, "sent");
      } else if (saved.outcome === "queued") {
        form.hidden = true;
        say(SAVED, "saved");
        if (navigator.onLine) flush();
      } else if (saved.outcome === "invalid") {
        showServerErrors(saved.errors);
      } else {
        formError.textContent = NO_SAVE;
      }
    });
  }

  // --- After-session reports -----------------------------------------------------------------
  function cloneTemplate(id) {
    var template = document.getElementById(id);
    return template ? template.content.cloneNode(true) : document.createDocumentFragment();
  }

  function line(text, kind) {
    var p = document.createElement("p");
    p.className = kind;
    p.textContent = text;
    return p;
  }

  // Like domain/safety.py reads a vitals rule: a high reading (with one of the named symptoms
  // when the rule names any), or a pulse above the limit.
  function vitalsAlert(rule, vitals, answers) {
    if (rule.systolic != null || rule.diastolic != null) {
      var high = (rule.systolic != null && vitals.systolic != null &&
                  vitals.systolic >= rule.systolic) ||
                 (rule.diastolic != null && vitals.diastolic != null &&
                  vitals.diastolic >= rule.diastolic);
      if (!high) return false;
      var needs = rule.with || [];
      return !needs.length || needs.some(function (k) { return (answers[k] || 0) >= 1; });
    }
    return rule.pulse != null && vitals.pulse != null && vitals.pulse > rule.pulse;
  }

  function setUpReport(box) {
    var prefix = box.id;
    var form = box.querySelector("form");
    var hint = box.querySelector(".report-hint");
    var worry = document.getElementById(prefix + "-worry");
    var report = document.getElementById(prefix + "-status");
    var formError = document.getElementById(prefix + "-form-error");
    var note = document.getElementById(prefix + "-note");
    var noteError = document.getElementById(prefix + "-note-error");
    var noteCheck = noteField(note, document.getElementById(prefix + "-note-count"), noteError);
    var items = Array.prototype.slice.call(form.querySelectorAll("fieldset.symptom"));
    var readings = Array.prototype.slice.call(form.querySelectorAll(".reading input"));
    var rules = JSON.parse(box.getAttribute("data-vitals") || "[]");
    var dosed = Date.parse(box.getAttribute("data-dosed"));
    var offsetHours = parseInt(box.getAttribute("data-offset"), 10) / 60;
    var mine = null;

    function setError(name, text) {
      var error = document.getElementById(prefix + "-" + name + "-error");
      if (error) error.textContent = text;
      var field = document.getElementById(prefix + "-" + name);
      if (field) field.setAttribute("aria-invalid", text ? "true" : "false");
    }

    function answers() {
      var found = {};
      items.forEach(function (fieldset) {
        var chosen = fieldset.querySelector("input:checked");
        found[fieldset.getAttribute("data-key")] = chosen ? parseInt(chosen.value, 10) : null;
      });
      return found;
    }

    // A reading: null when empty, a whole number, or NaN when it is not one.
    function reading(input) {
      var text = input.value.trim();
      if (!text) return null;
      return /^[0-9]{1,4}$/.test(text) ? parseInt(text, 10) : NaN;
    }

    function vitals() {
      var found = {};
      readings.forEach(function (input) {
        var value = reading(input);
        var low = parseInt(input.getAttribute("data-min"), 10);
        var high = parseInt(input.getAttribute("data-max"), 10);
        found[input.name] = value !== null && value >= low && value <= high ? value : null;
      });
      return found;
    }

    function worrying() {
      // Hours after dosing when it is sent (never before it was due, as the server counts).
      var hours = Math.max((Date.now() - dosed) / 3600000, offsetHours);
      var given = answers();
      var item = items.some(function (fieldset) {
        var least = 0;
        JSON.parse(fieldset.getAttribute("data-worry") || "[]").forEach(function (step) {
          if (hours >= step[0]) least = step[1];
        });
        var value = given[fieldset.getAttribute("data-key")];
        return least > 0 && value !== null && value >= least;
      });
      var read = vitals();
      return item || rules.some(function (rule) { return vitalsAlert(rule, read, given); });
    }

    // The crisis card, at once and right where the worrying answer was given.
    function showWorry(near) {
      if (worry.firstChild || !worrying()) return;
      if (near && near.parentNode) near.parentNode.insertBefore(worry, near.nextSibling);
      worry.appendChild(cloneTemplate("offline-worry"));
      if (worry.scrollIntoView) worry.scrollIntoView({ block: "nearest" });
    }

    form.addEventListener("change", function (event) {
      var target = event.target;
      if (!target) return;
      if (target.type === "radio") {
        setError(target.name, "");
        showWorry(target.closest("fieldset"));
      } else if (target.closest(".reading")) {
        showWorry(form.querySelector("fieldset.readings"));
      }
    });

    function collect() {
      var given = answers();
      var problems = {};
      items.forEach(function (fieldset) {
        var key = fieldset.getAttribute("data-key");
        if (given[key] === null) {
          problems[key] = "Please choose an answer (choose None if you have not had this).";
        }
      });
      var data = { dosing_session_id: parseInt(box.getAttribute("data-dosing"), 10),
        offset_minutes: parseInt(box.getAttribute("data-offset"), 10), answers: given };
      readings.forEach(function (input) {
        var value = reading(input);
        var low = parseInt(input.getAttribute("data-min"), 10);
        var high = parseInt(input.getAttribute("data-max"), 10);
        if (value !== null && isNaN(value)) {
          problems[input.name] = "Enter the " + input.getAttribute("data-what") +
            " as a number, like 120.";
        } else if (value !== null && (value < low || value > high)) {
          problems[input.name] = "Enter a number from " + low + " to " + high + ".";
        }
        data[input.name] = value;
      });
      if (!problems.systolic && !problems.diastolic) {
        if ((data.systolic === null) !== (data.diastolic === null)) {
          problems[data.diastolic === null ? "diastolic" : "systolic"] =
            "Enter both blood pressure numbers, or leave both empty.";
        } else if (data.systolic !== null && data.systolic <= data.diastolic) {
          problems.diastolic = "The lower number must be smaller than the upper number.";
        }
      }
      var tooLong = noteCheck.problem();
      if (tooLong) problems.note = tooLong;
      data.note = note.value.trim();
      return { data: data, problems: problems };
    }

    // Messages at their fields (keeping what was typed), the rest above the button.
    function showErrors(errors) {
      var general = [];
      var first = null;
      var names = items.map(function (f) { return f.getAttribute("data-key"); })
        .concat(readings.map(function (i) { return i.name; }), ["note"]);
      names.forEach(function (name) {
        setError(name, errors[name] ? String(errors[name]) : "");
        if (errors[name] && !first) first = document.getElementById(prefix + "-" + name);
      });
      Object.keys(errors).forEach(function (key) {
        if (names.indexOf(key) < 0) general.push(String(errors[key]));
      });
      var count = Object.keys(errors).length - general.length;
      formError.textContent = general.join(" ") || problemsText(count);
      report.replaceChildren();
      form.hidden = false;
      box.open = true;
      if (first) {
        var focusable = first.matches("fieldset") ? first.querySelector("input") : first;
        if (focusable) focusable.focus();
      }
    }

    function keep(text) {
      box.setAttribute("data-kept", "1");
      if (hint) hint.textContent = text;
    }

    function saved() {
      form.hidden = true;
      box.appendChild(worry); // the crisis card stays in view, under the status
      report.replaceChildren(line(SAVED, "saved"));
      keep("Saved on this phone");
    }

    function sent(support) {
      form.hidden = true;
      report.replaceChildren(line(REPORT_SENT, "sent"));
      if (support) {
        worry.replaceChildren();
        report.appendChild(cloneTemplate("offline-support"));
        box.open = true;
      } else {
        box.appendChild(worry);
      }
      keep("Sent");
    }

    function watch(sid) {
      mine = sid;
      handlers[sid] = { sent: sent, failed: showErrors };
    }

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      formError.textContent = "";
      var checked = collect();
      var count = Object.keys(checked.problems).length;
      if (count) {
        showErrors(checked.problems);
        return;
      }
      showWorry(form.querySelector("button[type=submit]"));
      var item = entry("symptom_report", mine, checked.data);
      watch(item.submission_id);
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      var result = await save(item);
      button.disabled = false;
      if (result.outcome === "sent") {
        sent(result.support);
      } else if (result.outcome === "queued") {
        saved();
        if (navigator.onLine) flush();
      } else if (result.outcome === "invalid") {
        showErrors(result.errors);
      } else {
        formError.textContent = NO_SAVE;
      }
    });

    return {
      box: box,
      // An entry for this report already waits on this phone (from an earlier visit).
      waiting: function (sid) { watch(sid); saved(); },
    };
  }

  function whenText(ms) {
    return new Date(ms).toLocaleString([], {
      weekday: "long", day: "numeric", month: "long", hour: "numeric", minute: "2-digit",
    });
  }

  function setUpReports(section) {
    var next = document.getElementById("reports-next");
    var reports = Array.prototype.slice.call(section.querySelectorAll("details.report"))
      .map(setUpReport);

    // Show each report from its due time on this phone's clock until the next one is due.
    function schedule() {
      var now = Date.now();
      var shown = 0;
      var upcoming = null;
      reports.forEach(function (r) {
        var due = Date.parse(r.box.getAttribute("data-due"));
        var closes = Date.parse(r.box.getAttribute("data-closes"));
        // One being filled in or already saved stays, even past its window.
        var open = r.box.hasAttribute("data-kept") || r.box.open || (now >= due && now < closes);
        r.box.hidden = !open;
        if (open) shown += 1;
        else if (now < due && (upcoming === null || due < upcoming)) upcoming = due;
      });
      next.textContent = upcoming === null ? "" :
        (shown ? "Your next after-session check opens " : "Your after-session check opens ") +
        whenText(upcoming) + ".";
      section.hidden = !shown && upcoming === null;
    }
    schedule();
    setInterval(schedule, 60000);

    return ask({ type: "pending" }).then(function (reply) {
      var items = (reply && reply.items) || [];
      items.forEach(function (item) {
        if (item.kind !== "symptom_report") return;
        var found = reports.filter(function (r) {
          return String(item.dosing_session_id) === r.box.getAttribute("data-dosing") &&
            String(item.offset_minutes) === r.box.getAttribute("data-offset");
        })[0];
        if (found) found.waiting(item.submission_id);
      });
      schedule();
    }, function () { return undefined; });
  }

  // --- Start ---------------------------------------------------------------------------------
  var checkin = document.getElementById("offline-checkin");
  if (checkin) setUpCheckin(checkin); // staff see the crisis card only
  var section = document.getElementById("offline-reports");
  var ready = section ? setUpReports(section) : Promise.resolve();
  // Replay what waits only once the page knows which of its reports are waiting.
  ready.then(function () {
    window.addEventListener("online", function () { flush(); });
    if (navigator.onLine) flush();
  });
})();
