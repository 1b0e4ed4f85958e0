// KAP Journey page helpers. Credentials go to /auth/* over HTTPS fetch, never over the
// websocket; the session cookie is HttpOnly, so this script never sees it.
(function () {
  "use strict";
  var OFFLINE = "No connection. Check your signal and try again.";
  var FAILED = "Something went wrong. Please try again.";

  async function postJSON(url, data) {
    var response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(data || {}),
      });
    } catch (err) {
      return { ok: false, errors: { form: OFFLINE } };
    }
    var body = {};
    try { body = await response.json(); } catch (err) { body = {}; }
    if (response.ok && body.ok) return body;
    return { ok: false, errors: body.errors || { form: FAILED } };
  }

  window.kj = {
    inviteToken: function () {
      return decodeURIComponent((window.location.hash || "").slice(1));
    },
    postForm: async function (formId, url) {
      var form = document.getElementById(formId);
      if (!form) return { ok: false, errors: { form: FAILED } };
      var data = {};
      new FormData(form).forEach(function (value, key) { data[key] = String(value); });
      if (url.indexOf("/auth/invite/") === 0) data.token = window.kj.inviteToken();
      var result = await postJSON(url, data);
      if (result.ok) window.location.assign(result.next || "/");
      return result;
    },
    signOut: async function () {
      // PWA (pwa.js): send entries saved on this phone, then drop the rest, before signing out.
      if (window.kjPwa && !(await window.kjPwa.prepareSignOut())) return;
      await postJSON("/auth/signout", {});
      window.location.assign("/signin");
    },
    // Two-factor sign-in (issue 7). The reply is shown here, in the page, and never sent over
    // the websocket: recovery codes exist in this tab's DOM only, once.
    twoFactor: {
      submit: async function (formId, url) {
        var form = document.getElementById(formId);
        if (!form) return;
        var button = form.querySelector("button[type=submit]");
        var data = {};
        new FormData(form).forEach(function (value, key) { data[key] = String(value); });
        showError(formId + "-code", "");
        showError(formId + "-form", "");
        if (button) button.disabled = true;
        var result = await postJSON(url, data);
        if (result.ok && result.codes) return showCodes(result.codes, result.next || "/");
        if (result.ok) return window.location.assign(result.next || "/");
        if (button) button.disabled = false;
        var errors = result.errors || {};
        showError(formId + "-code", errors.code || "");
        showError(formId + "-form", errors.form || (errors.code ? "" : FAILED));
        var input = document.getElementById(formId + "-code");
        if (input && errors.code) input.focus();
      },
      download: function () {
        var list = document.getElementById("recovery-codes");
        var codes = Array.prototype.map.call(list.querySelectorAll("li"), function (li) {
          return li.textContent;
        });
        var text = "KAP Journey recovery codes\n" +
          "Each code signs you in once, if you cannot use your authenticator app.\n\n" +
          codes.join("\n") + "\n";
        var link = document.createElement("a");
        link.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
        link.download = "kap-journey-recovery-codes.txt";
        link.hidden = true;
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
      },
      copy: async function () {
        var list = document.getElementById("recovery-codes");
        var codes = Array.prototype.map.call(list.querySelectorAll("li"), function (li) {
          return li.textContent;
        });
        var status = document.getElementById("recovery-codes-status");
        try {
          await navigator.clipboard.writeText(codes.join("\n"));
          status.textContent = "Copied.";
        } catch (err) {
          status.textContent = "Copying didn't work here. Download them or write them down.";
        }
      },
    },
  };

  // --- The account menu (ui/layout.py) -------------------------------------------------------
  // A button (data-kj-menu) shows the panel it controls. A tap elsewhere closes it, as do
  // Escape (focus goes back to the button), choosing one of its items and tabbing past them.
  // Listening on the document, it works as soon as this deferred script has run, before the
  // page's own script has started.
  function menuPanel(button) {
    return document.getElementById(button.getAttribute("aria-controls") || "");
  }
  function setMenu(button, open) {
    var panel = menuPanel(button);
    if (!panel) return;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    panel.hidden = !open;
  }
  function openMenus() {
    return Array.prototype.slice.call(
      document.querySelectorAll("[data-kj-menu][aria-expanded='true']")
    );
  }
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var button = target && target.closest("[data-kj-menu]");
    openMenus().forEach(function (open) {
      if (open === button) return;
      var panel = menuPanel(open);
      var inside = panel && target && panel.contains(target);
      if (!inside || target.closest("a, button")) setMenu(open, false);
    });
    if (button) setMenu(button, button.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("focusin", function (event) {
    openMenus().forEach(function (open) {  // Tab past its last item: it closes behind you
      var panel = menuPanel(open);
      if (event.target !== open && !(panel && panel.contains(event.target))) setMenu(open, false);
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    openMenus().forEach(function (open) {
      var panel = menuPanel(open);
      var hadFocus = panel && panel.contains(document.activeElement);
      setMenu(open, false);
      if (hadFocus || document.activeElement === open) open.focus();
    });
  });

  // A field's message: "" hides it. The input is marked invalid while a message shows.
  function showError(fieldId, message) {
    var line = document.getElementById(fieldId + "-error");
    if (line) {
      line.textContent = message;
      line.style.display = message ? "block" : "none";
    }
    var input = document.getElementById(fieldId);
    if (input) input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function showCodes(codes, next) {
    var list = document.getElementById("recovery-codes");
    var step = document.getElementById("recovery-codes-step");
    var enrol = document.getElementById("enrol-steps");
    if (!list || !step) return window.location.assign(next);
    list.textContent = "";
    codes.forEach(function (code) {
      var item = document.createElement("li");
      item.textContent = String(code);
      list.appendChild(item);
    });
    var done = document.getElementById("recovery-codes-done");
    if (done) done.setAttribute("href", next);
    if (enrol) enrol.style.display = "none";
    step.style.display = "block";
    var heading = document.getElementById("recovery-codes-heading");
    if (heading) heading.focus();
  }
})();
