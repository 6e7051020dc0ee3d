// The owner console's only script: the WebAuthn ceremony of the sign-in
// and enrolment pages (navigator.credentials needs JavaScript). It loads
// nothing else and sends only to this origin.
"use strict";
(function () {
  var button = document.getElementById("passkey");
  var errorBox = document.getElementById("passkey-error");
  if (!button) return;
  function b64u(buf) {
    var s = "", bytes = new Uint8Array(buf);
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function unb64u(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j.error || r.statusText);
        return j;
      });
    });
  }
  function ids(list) {
    (list || []).forEach(function (c) { c.id = unb64u(c.id); });
  }
  function fail(err) {
    errorBox.textContent = button.dataset.failed + " (" + (err && err.message || err) + ")";
    errorBox.hidden = false;
    button.disabled = false;
  }
  button.addEventListener("click", function () {
    button.disabled = true;
    errorBox.hidden = true;
    var enrol = button.dataset.mode === "enrol";
    post(button.dataset.begin).then(function (opts) {
      var pk = opts.publicKey;
      pk.challenge = unb64u(pk.challenge);
      if (enrol) {
        pk.user.id = unb64u(pk.user.id);
        ids(pk.excludeCredentials);
        return navigator.credentials.create({publicKey: pk});
      }
      ids(pk.allowCredentials);
      return navigator.credentials.get({publicKey: pk});
    }).then(function (cred) {
      var r = cred.response, response = {clientDataJSON: b64u(r.clientDataJSON)};
      if (enrol) {
        response.attestationObject = b64u(r.attestationObject);
        if (r.getTransports) response.transports = r.getTransports();
      } else {
        response.authenticatorData = b64u(r.authenticatorData);
        response.signature = b64u(r.signature);
        if (r.userHandle) response.userHandle = b64u(r.userHandle);
      }
      return post(button.dataset.finish, {
        id: cred.id, rawId: b64u(cred.rawId), type: cred.type, response: response,
        clientExtensionResults: cred.getClientExtensionResults(),
        authenticatorAttachment: cred.authenticatorAttachment || undefined
      });
    }).then(function (j) {
      window.location.assign(j.next);
    }).catch(fail);
  });
})();
