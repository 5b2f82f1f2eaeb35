/* Visit drafts kept on the phone (IndexedDB), and sending them.
 *
 * Loaded by the pages and by the service worker (importScripts), so it
 * touches no DOM. A draft is a visit written down without a network:
 *
 *   key        the draft's idempotency key (a UUID), sent as client_key:
 *              the server records one visit per key however often it is sent
 *   owner      id of the signed-in user who wrote it; only they see or send it
 *   household, householdName, formUrl, uploadUrl
 *   fields     [[name, value], ...] of the visit form, as the form posts them
 *   photos     [{name, type, blob}], already made smaller on the phone
 *   status     "pending" (待上传), "refused" (the server said no: reason), or
 *              "submitting" (a copy of a visit form sent online, kept until
 *              a page sees the visit on the server)
 *
 * A draft leaves the phone only when the server answered that it recorded
 * the visit. A refusal keeps it, with the reason, until the person edits or
 * deletes it; a lost connection keeps it as it was.
 */
(function (root) {
  "use strict";

  var DB_NAME = "hardship-visits";
  var DB_VERSION = 1;
  var dbPromise = null;

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function open() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = root.indexedDB.open(DB_NAME, DB_VERSION);
        req.onupgradeneeded = function () {
          var db = req.result;
          if (!db.objectStoreNames.contains("drafts")) {
            db.createObjectStore("drafts", { keyPath: "key" }).createIndex("owner", "owner");
          }
          if (!db.objectStoreNames.contains("meta")) {
            db.createObjectStore("meta", { keyPath: "name" });
          }
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { dbPromise = null; reject(req.error); };
      });
    }
    return dbPromise;
  }

  function withStore(name, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var result;
        Promise.resolve(work(tx.objectStore(name))).then(function (value) { result = value; });
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function list(owner) {
    if (!owner) return Promise.resolve([]);
    return withStore("drafts", "readonly", function (store) {
      return request(store.index("owner").getAll(String(owner)));
    }).then(function (rows) {
      return (rows || []).sort(function (a, b) { return a.created - b.created; });
    });
  }

  function get(key, owner) {
    return withStore("drafts", "readonly", function (store) {
      return request(store.get(key));
    }).then(function (draft) {
      // Another person's draft does not exist for this one.
      return draft && owner && draft.owner === String(owner) ? draft : null;
    });
  }

  function put(draft) {
    draft.updated = Date.now();
    if (!draft.created) draft.created = draft.updated;
    return withStore("drafts", "readwrite", function (store) {
      store.put(draft);
    }).then(function () { return draft; });
  }

  function remove(key) {
    return withStore("drafts", "readwrite", function (store) {
      store.delete(key);
    });
  }

  function getMeta(name) {
    return withStore("meta", "readonly", function (store) {
      return request(store.get(name));
    });
  }

  function setMeta(name, value) {
    var row = Object.assign({}, value, { name: name });
    return withStore("meta", "readwrite", function (store) {
      store.put(row);
    });
  }

  function newKey() {
    if (root.crypto && root.crypto.randomUUID) return root.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    root.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function body(draft) {
    var data = new FormData();
    (draft.fields || []).forEach(function (pair) { data.append(pair[0], pair[1]); });
    (draft.photos || []).forEach(function (photo) {
      data.append("photos", new File([photo.blob], photo.name, { type: photo.type }));
    });
    data.append("client_key", draft.key);
    data.append("owner", draft.owner);
    return data;
  }

  /* One attempt. Resolves to {state, code, message, visit}:
   *   sent     the server recorded the visit (now or before): the draft is gone
   *   refused  the server said no: the draft stays, with the reason
   *   waiting  no answer we can act on (no network, signed out, server error):
   *            the draft stays as it was and is tried again later */
  function send(draft, csrf) {
    var started = draft.updated;
    var attempt = fetch(draft.uploadUrl, {
      method: "POST",
      body: body(draft),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf || "", "X-Requested-With": "XMLHttpRequest" },
      redirect: "follow",
    });
    return attempt.then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (response.redirected && /\/login\//.test(response.url)) {
        return { state: "waiting", code: "login" };
      }
      if (type.indexOf("application/json") === -1) {
        // Django's own CSRF refusal is a page, not JSON: a fresh page load
        // brings a new token.
        return { state: "waiting", code: response.status === 403 ? "csrf" : "server" };
      }
      return response.json().then(function (answer) {
        if (answer.ok) return { state: "sent", visit: answer.visit, replayed: answer.replayed };
        if (response.status === 409) return { state: "waiting", code: "owner" };
        if (response.status >= 500) return { state: "waiting", code: "server" };
        return { state: "refused", message: answer.message, errors: answer.errors };
      });
    }, function () {
      return { state: "waiting", code: "network" };
    }).then(function (outcome) {
      if (outcome.state === "sent") return remove(draft.key).then(function () { return outcome; });
      return get(draft.key, draft.owner).then(function (fresh) {
        // Deleted meanwhile, or edited since this copy was sent: the answer
        // was about the old content, so it is not written over the new.
        if (!fresh || fresh.updated !== started) return outcome;
        if (outcome.state === "refused") {
          fresh.status = "refused";
          fresh.reason = outcome.message || "";
          fresh.errors = outcome.errors || {};
        } else {
          fresh.note = outcome.code;
        }
        return withStore("drafts", "readwrite", function (store) {
          store.put(fresh);
        }).then(function () { return outcome; });
      });
    });
  }

  // One send per draft at a time in this browser, across tabs and the
  // worker where the browser has Web Locks; the server's key covers the rest.
  function sendLocked(draft, csrf) {
    var locks = root.navigator && root.navigator.locks;
    if (!locks) return send(draft, csrf);
    return locks.request("visit-draft-" + draft.key, { ifAvailable: true }, function (lock) {
      if (!lock) return { state: "busy" };
      // Another sender may have finished while this one waited for its turn.
      return get(draft.key, draft.owner).then(function (fresh) {
        return fresh ? send(fresh, csrf) : { state: "sent" };
      });
    });
  }

  /* Send the owner's drafts one after the other. `all` includes refused
   * ones (the 上传 button); the automatic sends try only those waiting. */
  function sendAll(owner, csrf, all) {
    return list(owner).then(function (drafts) {
      var results = [];
      return drafts.reduce(function (chain, draft) {
        // A copy of a form being sent online waits for its answer (offline.js).
        if (draft.status === "submitting") return chain;
        if (!all && draft.status === "refused") return chain;
        return chain.then(function () {
          return sendLocked(draft, csrf).then(function (outcome) { results.push(outcome); });
        });
      }, Promise.resolve()).then(function () { return results; });
    });
  }

  root.VisitDrafts = {
    list: list,
    get: get,
    put: put,
    remove: remove,
    getMeta: getMeta,
    setMeta: setMeta,
    newKey: newKey,
    send: sendLocked,
    sendAll: sendAll,
  };
})(self);
