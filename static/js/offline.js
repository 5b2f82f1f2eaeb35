/* Visits without a network, on the page side.
 *
 * - Registers the service worker (static/sw.js, served at the site root).
 * - The visit form, saved while the phone is offline (or a draft being
 *   edited), becomes a draft on the phone: its photos are made smaller here
 *   (at most 1600 px on the long side, JPEG) and kept with it.
 * - 待上传 in the top bar counts the signed-in person's drafts; the 待上传
 *   page lists them to edit, send (上传) or delete.
 * - Drafts are sent when the network returns: by Background Sync where the
 *   browser has it, else on the `online` event and on every page load.
 * - Drafts belong to the person who wrote them: another person signed in on
 *   the same phone neither sees nor sends them, and the pages kept for
 *   offline use are forgotten when the person changes or signs out.
 * - Signing out with drafts not yet sent asks first.
 *
 * Texts come from the page (<template id="offline-texts">), translated there.
 */
(function () {
  "use strict";

  var store = window.VisitDrafts;
  var MAX_SIDE = 1600;
  var body = document.body;
  var user = body.dataset.user || "";
  var count = 0;
  var texts = {};

  function t(name, values) {
    var text = texts[name] || name;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }

  function readTexts() {
    var holder = document.getElementById("offline-texts");
    if (!holder) return;
    var items = holder.content.querySelectorAll("[data-text]");
    for (var i = 0; i < items.length; i++) texts[items[i].dataset.text] = items[i].textContent;
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function localToday() {
    var now = new Date();
    var month = String(now.getMonth() + 1).padStart(2, "0");
    var day = String(now.getDate()).padStart(2, "0");
    return now.getFullYear() + "-" + month + "-" + day;
  }

  function online() { return navigator.onLine !== false; }

  // -- the 待上传 count in the top bar -------------------------------------

  function refreshCount() {
    return store.list(user).then(function (drafts) {
      count = drafts.length;
      var badge = document.getElementById("pending-badge");
      if (badge) {
        badge.hidden = count === 0;
        var number = badge.querySelector("[data-count]");
        if (number) number.textContent = String(count);
        badge.classList.toggle("has-refused", drafts.some(function (d) { return d.status === "refused"; }));
      }
      return drafts;
    });
  }

  function changed() {
    return refreshCount().then(function (drafts) {
      renderLists(drafts);
      return drafts;
    });
  }

  // -- sending ---------------------------------------------------------------

  var sending = null;

  function sendNow(all) {
    if (!user) return Promise.resolve([]);
    if (sending) return sending;
    sending = store.sendAll(user, csrfToken(), all).then(function (results) {
      sending = null;
      var sent = results.filter(function (r) { return r.state === "sent"; }).length;
      if (sent) say(t("sent", { n: sent }), "success");
      var waiting = results.filter(function (r) { return r.state === "waiting"; });
      if (waiting.length && all) say(t("wait-" + (waiting[0].code || "network")), "warning");
      if (waiting.length) askForSync();
      return changed().then(function () { return results; });
    }, function (error) {
      sending = null;
      throw error;
    });
    return sending;
  }

  function askForSync() {
    if (!("serviceWorker" in navigator)) return Promise.resolve();
    return navigator.serviceWorker.ready.then(function (reg) {
      if (reg.sync) return reg.sync.register("visit-drafts");
      return null;
    }).catch(function () { return null; });
  }

  // -- messages on the page -------------------------------------------------

  function say(message, kind) {
    var box = document.getElementById("offline-status");
    if (!box) {
      box = document.createElement("ul");
      box.id = "offline-status";
      box.className = "messages";
      box.setAttribute("role", "status");
      var main = document.querySelector("main.page") || body;
      main.insertBefore(box, main.firstChild);
    }
    var item = document.createElement("li");
    item.className = "msg-" + (kind || "info");
    item.textContent = message;
    box.appendChild(item);
  }

  // -- photos ---------------------------------------------------------------

  function smaller(file) {
    if (!window.createImageBitmap) return Promise.resolve({ name: file.name, type: file.type, blob: file });
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          var name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
          resolve({ name: name, type: "image/jpeg", blob: blob, width: canvas.width, height: canvas.height });
        }, "image/jpeg", 0.85);
      });
    }, function () {
      // Not a picture the phone can read: kept as it is, the server says why.
      return { name: file.name, type: file.type, blob: file };
    });
  }

  // -- the visit form -------------------------------------------------------

  function formFields(form) {
    var fields = [];
    var data = new FormData(form);
    data.forEach(function (value, name) {
      if (name === "csrfmiddlewaretoken" || name === "client_key" || typeof value !== "string") return;
      fields.push([name, value]);
    });
    return fields;
  }

  function fillForm(form, fields) {
    var values = {};
    fields.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.name === "client_key" || el.type === "file") return;
      var given = values[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = given.indexOf(el.value) !== -1;
      } else if (el.tagName === "SELECT" || el.type !== "submit") {
        el.value = given.length ? given[0] : "";
      }
    });
  }

  function showDraftPhotos(box, draft) {
    box.innerHTML = "";
    (draft.photos || []).forEach(function (photo, index) {
      var item = document.createElement("label");
      item.className = "draft-photo";
      var img = document.createElement("img");
      img.alt = t("photo", { n: index + 1 });
      img.src = URL.createObjectURL(photo.blob);
      var keep = document.createElement("input");
      keep.type = "checkbox";
      keep.checked = true;
      keep.dataset.photoIndex = String(index);
      item.appendChild(img);
      item.appendChild(keep);
      item.appendChild(document.createTextNode(t("keep-photo")));
      box.appendChild(item);
    });
    box.hidden = !(draft.photos || []).length;
  }

  function setUpVisitForm(form) {
    var params = new URLSearchParams(location.search);
    var editing = null;
    var note = document.getElementById("offline-note");
    var photoBox = document.getElementById("draft-photos");
    var dateInput = form.querySelector("input[name=visited_on]");
    // Set by the server only on a form sent back with errors.
    var bound = form.dataset.clientKey || "";

    function showMode() {
      if (note) note.hidden = online() && !editing;
    }
    window.addEventListener("online", showMode);
    window.addEventListener("offline", showMode);

    // A page kept for days still offers today's date: the phone's today.
    var today = localToday();
    if (dateInput && !bound && !params.get("draft")) {
      if (!dateInput.max || dateInput.max < today) dateInput.max = today;
      if (dateInput.value < today) dateInput.value = today;
    }

    var ready = Promise.resolve();
    if (params.get("draft")) {
      ready = store.get(params.get("draft"), user).then(function (draft) {
        if (!draft) {
          say(t("draft-missing"), "warning");
          return;
        }
        editing = draft;
        fillForm(form, draft.fields);
        if (dateInput && dateInput.max < today) dateInput.max = today;
        if (photoBox) showDraftPhotos(photoBox, draft);
        var heading = document.querySelector("h1");
        if (heading) heading.textContent = t("edit-heading");
        if (draft.status === "refused" && draft.reason) say(t("refused", { reason: draft.reason }), "error");
      });
    }
    ready.then(showMode);

    // The key the online form is sent with: fresh for every visit (a page
    // brought back by the back button must not pass for the visit it sent),
    // the same again when the form came back with errors.
    var keyInput = form.querySelector("input[name=client_key]");
    if (keyInput) keyInput.value = bound;
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      if (keyInput) keyInput.value = "";
      var button = form.querySelector("button[type=submit]");
      if (button) button.disabled = false;
    });

    function keepCopy(status, key) {
      var input = form.querySelector("input[type=file][name=photos]");
      var files = input && input.files ? Array.prototype.slice.call(input.files) : [];
      var kept = [];
      if (editing && photoBox) {
        var boxes = photoBox.querySelectorAll("input[data-photo-index]");
        for (var i = 0; i < boxes.length; i++) {
          if (boxes[i].checked) kept.push(editing.photos[Number(boxes[i].dataset.photoIndex)]);
        }
      }
      return Promise.all(files.map(smaller)).then(function (photos) {
        var draft = editing || {
          key: key || store.newKey(),
          owner: user,
          household: form.dataset.household,
          householdName: form.dataset.householdName,
          householdUrl: form.dataset.householdUrl,
          formUrl: form.dataset.formUrl,
          uploadUrl: form.dataset.uploadUrl,
        };
        draft.fields = formFields(form);
        var kind = form.querySelector("input[name=kind]:checked");
        var kindLabel = kind && kind.closest("label");
        draft.kindName = kindLabel ? kindLabel.textContent.trim() : "";
        draft.photos = kept.concat(photos);
        draft.status = status;
        draft.reason = "";
        draft.errors = {};
        draft.note = "";
        return store.put(draft);
      });
    }

    form.addEventListener("submit", function (event) {
      var button = form.querySelector("button[type=submit]");
      if (online() && !editing) {
        // Sent as an ordinary form; a copy stays on the phone ("submitting")
        // until a later page sees the visit on the server, so a save whose
        // answer is lost on a weak signal is sent again, not lost.
        event.preventDefault();
        if (button) button.disabled = true;
        if (keyInput && !keyInput.value) keyInput.value = store.newKey();
        keepCopy("submitting", keyInput ? keyInput.value : "").catch(function () {
          return null;
        }).then(function () {
          form.submit();
        });
        return;
      }
      event.preventDefault();
      if (button) button.disabled = true;
      var input = form.querySelector("input[type=file][name=photos]");
      keepCopy("pending").then(function (draft) {
        editing = draft;
        if (input) input.value = "";
        if (photoBox) showDraftPhotos(photoBox, draft);
        return askForSync().then(function () {
          if (!online()) {
            say(t("saved-offline"), "success");
            return changed();
          }
          return sendNow(false).then(function () {
            return store.get(draft.key, user).then(function (left) {
              if (!left) {
                location.href = draft.householdUrl;
                return null;
              }
              editing = left;
              if (left.status === "refused") say(t("refused", { reason: left.reason }), "error");
              else say(t("saved-offline"), "success");
              return null;
            });
          });
        });
      }).catch(function (error) {
        say(t("save-failed", { error: String(error && error.message || error) }), "error");
      }).then(function () {
        if (button) button.disabled = false;
      });
    });
  }

  // -- draft lists (the 待上传 page and the visit form's own household) ------

  var kindNames = {};

  function readKinds() {
    var radios = document.querySelectorAll("input[name=kind]");
    for (var i = 0; i < radios.length; i++) {
      var label = radios[i].closest("label") || document.querySelector("label[for='" + radios[i].id + "']");
      if (label) kindNames[radios[i].value] = label.textContent.trim();
    }
  }

  function field(draft, name) {
    var pair = (draft.fields || []).filter(function (p) { return p[0] === name; })[0];
    return pair ? pair[1] : "";
  }

  function draftItem(draft, withActions) {
    var item = document.createElement("li");
    item.className = "draft card" + (draft.status === "refused" ? " refused" : "");
    item.dataset.key = draft.key;
    var head = document.createElement("div");
    head.className = "draft-head";
    var name = document.createElement("strong");
    name.textContent = draft.householdName || "";
    var badge = document.createElement("span");
    badge.className = "badge " + (draft.status === "refused" ? "overdue" : "pending");
    badge.textContent = draft.status === "refused" ? t("status-refused") : t("status-pending");
    head.appendChild(name);
    head.appendChild(document.createTextNode(" "));
    head.appendChild(badge);
    item.appendChild(head);
    var line = document.createElement("div");
    line.className = "muted";
    var kind = field(draft, "kind");
    line.textContent = [field(draft, "visited_on"), kindNames[kind] || draft.kindName || "", t("photos", { n: (draft.photos || []).length })]
      .filter(Boolean).join(" · ");
    item.appendChild(line);
    var needs = field(draft, "needs");
    if (needs) {
      var text = document.createElement("div");
      text.textContent = needs;
      item.appendChild(text);
    }
    if (draft.status === "refused" && draft.reason) {
      var reason = document.createElement("div");
      reason.className = "nonfield draft-reason";
      reason.setAttribute("role", "alert");
      reason.textContent = draft.reason;
      item.appendChild(reason);
    } else if (draft.note && draft.note !== "network") {
      var note = document.createElement("div");
      note.className = "muted";
      note.textContent = t("wait-" + draft.note);
      item.appendChild(note);
    }
    if (withActions) {
      var actions = document.createElement("div");
      actions.className = "actions";
      var edit = document.createElement("a");
      edit.className = "button secondary";
      edit.href = draft.formUrl + "?draft=" + encodeURIComponent(draft.key);
      edit.textContent = t("edit");
      var send = document.createElement("button");
      send.type = "button";
      send.dataset.action = "send";
      send.textContent = t("send");
      var drop = document.createElement("button");
      drop.type = "button";
      drop.className = "secondary";
      drop.dataset.action = "delete";
      drop.textContent = t("delete");
      actions.appendChild(send);
      actions.appendChild(edit);
      actions.appendChild(drop);
      item.appendChild(actions);
    }
    return item;
  }

  function renderLists(drafts) {
    var lists = document.querySelectorAll("[data-draft-list]");
    for (var i = 0; i < lists.length; i++) {
      var list = lists[i];
      var only = list.dataset.household || "";
      var shown = drafts.filter(function (d) { return !only || d.household === only; });
      list.innerHTML = "";
      shown.forEach(function (d) { list.appendChild(draftItem(d, true)); });
      var holder = list.closest("[data-draft-holder]");
      if (holder) holder.hidden = shown.length === 0 && !!only;
      var empty = document.querySelector("[data-draft-empty]");
      if (empty && !only) empty.hidden = shown.length > 0;
    }
  }

  function onListClick(event) {
    var button = event.target.closest && event.target.closest("[data-draft-list] button[data-action]");
    if (!button) return;
    var key = button.closest("[data-key]").dataset.key;
    if (button.dataset.action === "delete") {
      if (!window.confirm(t("confirm-delete"))) return;
      store.remove(key).then(changed);
      return;
    }
    if (!online()) {
      say(t("wait-network"), "warning");
      return;
    }
    button.disabled = true;
    store.get(key, user).then(function (draft) {
      if (!draft) return changed();
      return store.send(draft, csrfToken()).then(function (outcome) {
        if (outcome.state === "sent") say(t("sent", { n: 1 }), "success");
        else if (outcome.state === "waiting") say(t("wait-" + (outcome.code || "network")), "warning");
        return changed();
      });
    }).then(function () { button.disabled = false; });
  }

  /* Copies kept while an online save was on its way: the visit on the
   * server (asked by key) means the copy goes; a visit the server never got
   * becomes an ordinary draft and is sent. The form that came back with
   * errors holds its own copy's key: the person has it in front of them. */
  function reconcile() {
    var form = document.querySelector("form[data-offline-visit]");
    var shown = form ? form.dataset.clientKey || "" : "";
    return store.list(user).then(function (drafts) {
      var copies = drafts.filter(function (d) { return d.status === "submitting"; });
      var work = [];
      copies = copies.filter(function (d) {
        if (d.key !== shown) return true;
        work.push(store.remove(d.key));
        return false;
      });
      if (!copies.length || !online() || !body.dataset.keysUrl) return Promise.all(work);
      var query = copies.map(function (d) { return "key=" + encodeURIComponent(d.key); }).join("&");
      return Promise.all(work).then(function () {
        return fetch(body.dataset.keysUrl + "?" + query, { credentials: "same-origin" });
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("application/json") === -1) return null;
        return response.json().then(function (answer) {
          var known = answer.known || [];
          return Promise.all(copies.map(function (d) {
            if (known.indexOf(d.key) !== -1) return store.remove(d.key);
            d.status = "pending";
            return store.put(d);
          }));
        });
      });
    }).catch(function () { return null; });
  }

  // -- who is signed in ------------------------------------------------------

  function forgetPages() {
    if (!window.caches) return Promise.resolve();
    return caches.delete("pages").catch(function () { return null; });
  }

  function noteUser() {
    return store.getMeta("user").then(function (last) {
      var lastId = last && last.id ? String(last.id) : "";
      var work = Promise.resolve();
      // Pages kept for offline use hold the last person's households.
      if (!user || (lastId && lastId !== user)) work = forgetPages();
      return work.then(function () {
        return store.setMeta("user", { id: user, csrf: user ? csrfToken() : "" });
      });
    });
  }

  function guardLogout() {
    var url = body.dataset.logoutUrl;
    if (!url) return;
    var forms = document.querySelectorAll("form");
    Array.prototype.forEach.call(forms, function (form) {
      if (form.getAttribute("action") !== url) return;
      form.addEventListener("submit", function (event) {
        if (count > 0 && !window.confirm(t("confirm-logout", { n: count }))) event.preventDefault();
      });
    });
  }

  function keepAhead() {
    // On 我的帮扶户: keep each listed household's page and visit form.
    if (location.pathname !== body.dataset.keepAheadOn || !("serviceWorker" in navigator) || !online()) return;
    var links = document.querySelectorAll("main a[href]");
    var urls = [body.dataset.draftsUrl];
    for (var i = 0; i < links.length; i++) urls.push(links[i].href);
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.active) reg.active.postMessage({ type: "keep", urls: urls });
    });
  }

  function register() {
    if (!("serviceWorker" in navigator) || !body.dataset.sw) return;
    navigator.serviceWorker.register(body.dataset.sw, { scope: body.dataset.swScope || "/" }).catch(function () {
      return null;
    });
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (!event.data || event.data.type !== "drafts-changed") return;
      if (event.data.sent) say(t("sent", { n: event.data.sent }), "success");
      changed();
    });
  }

  function start() {
    readTexts();
    readKinds();
    register();
    guardLogout();
    // The offline page is the same for everyone and knows nobody.
    if (!store || !window.indexedDB || "userUnknown" in body.dataset) return;
    document.addEventListener("click", onListClick);
    var form = document.querySelector("form[data-offline-visit]");
    noteUser().then(function () {
      if (!user) return null;
      if (form) setUpVisitForm(form);
      return reconcile();
    }).then(function () {
      return changed();
    }).then(function () {
      keepAhead();
      if (user && online()) sendNow(false);
    });
    window.addEventListener("online", function () {
      if (user) sendNow(false);
    });
    var all = document.querySelector("[data-send-all]");
    if (all) {
      all.addEventListener("click", function () {
        if (!online()) {
          say(t("wait-network"), "warning");
          return;
        }
        sendNow(true);
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
