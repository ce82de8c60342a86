/* Reports kept on the phone while the signal is gone (issue 12 §8; docs/governance.md "Photos and
 * bad signal").
 *
 * A draft is one record in IndexedDB (database "linli-report-drafts", store "drafts"), keyed by
 * the report's client key: {key, path, action, state, fields: [[name, value]…], photos: [{blob,
 * name, stamp, before, after}], savedAt, tries, nextAt, errors, pk, url}. States: "editing" (the
 * form being written), "waiting" (sent while offline or the server did not answer: sent again
 * with backoff), "sending", "sent" (the case's number and link), "refused" (the server's 4xx
 * message: the person fixes it in the form).
 *
 * window.linliDrafts.send(record, csrf) posts it with fetch as the form would (same client key,
 * so a retry never makes a second case; the server dedupes by source and client key) and resolves
 * to {kind: "sent", pk, url} | {kind: "refused", errors} | {kind: "retry", status}.
 */
(function () {
  "use strict";

  var DB = "linli-report-drafts", STORE = "drafts";
  var opened = null;

  function open() {
    if (opened) return opened;
    opened = new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no indexedDB")); return; }
      var req = window.indexedDB.open(DB, 1);
      req.onupgradeneeded = function () {
        if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE, { keyPath: "key" });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
      req.onblocked = function () { reject(new Error("blocked")); };
    });
    opened.catch(function () { opened = null; });
    return opened;
  }

  function run(mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), store = t.objectStore(STORE), out;
        var req = fn(store);
        if (req) req.onsuccess = function () { out = req.result; };
        t.oncomplete = function () { resolve(out); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error || new Error("aborted")); };
      });
    });
  }

  function get(key) { return run("readonly", function (s) { return s.get(key); }); }
  function put(record) { return run("readwrite", function (s) { return s.put(record); }); }
  function remove(key) { return run("readwrite", function (s) { return s.delete(key); }); }
  function all() {
    return run("readonly", function (s) { return s.getAll(); }).then(function (list) {
      return (list || []).sort(function (a, b) { return (a.savedAt || 0) - (b.savedAt || 0); });
    });
  }

  // Change one record in a transaction of its own: fn(record) returns the new one (or null to
  // leave it). Two pages changing the same draft do not overwrite each other's state.
  function update(key, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, "readwrite"), store = t.objectStore(STORE), out = null;
        var req = store.get(key);
        req.onsuccess = function () {
          var next = req.result ? fn(req.result) : null;
          if (next) { out = next; store.put(next); }
        };
        t.oncomplete = function () { resolve(out); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }

  function formData(record, csrf) {
    var fd = new FormData();
    (record.fields || []).forEach(function (pair) {
      if (pair[0] !== "csrfmiddlewaretoken") fd.append(pair[0], pair[1]);
    });
    fd.append("csrfmiddlewaretoken", csrf);
    (record.photos || []).forEach(function (p) {
      fd.append("photos", new File([p.blob], p.name || "photo.jpg", { type: p.blob.type || "image/jpeg" }));
      fd.append("photo_stamp", p.stamp || "");
    });
    return fd;
  }

  function send(record, csrf) {
    return fetch(record.action, {
      method: "POST",
      body: formData(record, csrf),
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf },
    }).then(function (r) {
      var json = (r.headers.get("Content-Type") || "").indexOf("application/json") >= 0;
      if (!json) return { kind: "retry", status: r.status }; // a sign-in page, a proxy's error page
      return r.json().then(function (data) {
        if (r.ok && data.ok) return { kind: "sent", pk: data.pk, url: data.url, created: data.created };
        if (r.status >= 400 && r.status < 500) return { kind: "refused", errors: data.errors || [], status: r.status };
        return { kind: "retry", status: r.status };
      });
    }, function () {
      return { kind: "retry", status: 0 }; // no network
    });
  }

  // 5 s, 10 s, 20 s … at most 5 minutes between tries
  function backoff(tries) { return Math.min(300000, 5000 * Math.pow(2, Math.max(0, tries - 1))); }

  window.linliDrafts = {
    available: !!window.indexedDB,
    get: get, put: put, remove: remove, all: all, update: update, send: send, backoff: backoff,
  };
})();
