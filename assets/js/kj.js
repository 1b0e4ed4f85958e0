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
  };
})();
