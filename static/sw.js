/* The service worker: pages and assets for a visit without a network, and
 * sending visit drafts when it returns.
 *
 * Served by cases.views.offline.service_worker from the site root, which
 * puts CONFIG (asset URLs, the pages to keep, the offline page) and VERSION
 * in front of this file.
 *
 * - Assets (CSS, JS, htmx, icons) are kept at install and answered from the
 *   copy; a new deployment changes VERSION and with it the copy.
 * - The pages a visit needs (我的帮扶户, a household's page, its visit form,
 *   待上传) are fetched from the network first and kept; without a network
 *   the kept copy is shown. Other pages show the offline page instead.
 * - Kept pages hold personal data: the pages ask the worker to forget them
 *   when the signed-in person changes or signs out.
 * - Background Sync ("visit-drafts"): the browser wakes the worker when the
 *   network returns and it sends the drafts of the person last signed in.
 */
/* global CONFIG, VERSION, VisitDrafts */
"use strict";

importScripts(CONFIG.store);

var SHELL = "shell-" + VERSION;
var PAGES = "pages";
var pagePatterns = CONFIG.pages.map(function (p) { return new RegExp(p); });

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL).then(function (cache) {
      // One by one: an asset that cannot be fetched now is kept the first
      // time a page uses it, and does not stop the worker from installing.
      return Promise.all(CONFIG.shell.concat([CONFIG.offline]).map(function (url) {
        return cache.add(url).catch(function () { return null; });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.map(function (name) {
        if (name.indexOf("shell-") === 0 && name !== SHELL) return caches.delete(name);
        return null;
      }));
    }).then(function () { return self.clients.claim(); })
  );
});

function keptPage(url) {
  return pagePatterns.some(function (re) { return re.test(url.pathname); });
}

// A page is kept under its path alone: the visit form opened to edit a
// draft (?draft=...) is the same page.
function pageKey(url) {
  return url.origin + url.pathname;
}

function storePage(url, response) {
  if (!response || response.status !== 200 || response.redirected) return Promise.resolve();
  var type = response.headers.get("Content-Type") || "";
  if (type.indexOf("text/html") === -1) return Promise.resolve();
  return caches.open(PAGES).then(function (cache) { return cache.put(pageKey(url), response); });
}

// On a weak signal a page may take minutes to arrive: after this long the
// kept copy is shown (the network's answer still refreshes the copy).
var SLOW_NETWORK_MS = 4000;

function fromNetworkThenKeep(event, url) {
  var storing = Promise.resolve();
  var network = fetch(event.request).then(function (response) {
    storing = storePage(url, response.clone());
    return response;
  });
  event.waitUntil(network.then(function () { return storing; }).catch(function () { return null; }));
  function keptCopy() {
    return caches.open(PAGES).then(function (cache) { return cache.match(pageKey(url)); });
  }
  return new Promise(function (resolve) {
    var answered = false;
    function answer(response) {
      if (answered || !response) return;
      answered = true;
      resolve(response);
    }
    var timer = setTimeout(function () { keptCopy().then(answer); }, SLOW_NETWORK_MS);
    network.then(function (response) {
      clearTimeout(timer);
      answer(response);
    }, function () {
      clearTimeout(timer);
      keptCopy().then(function (kept) {
        return kept || caches.match(CONFIG.offline);
      }).then(function (response) {
        answer(response || Response.error());
      });
    });
  });
}

function assetFromCopy(event) {
  return caches.match(event.request).then(function (kept) {
    if (kept) return kept;
    return fetch(event.request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        event.waitUntil(caches.open(SHELL).then(function (cache) { return cache.put(event.request, copy); }));
      }
      return response;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf(CONFIG.static) === 0) {
    event.respondWith(assetFromCopy(event));
    return;
  }
  if (request.mode !== "navigate") return;
  if (keptPage(url)) {
    event.respondWith(fromNetworkThenKeep(event, url));
    return;
  }
  event.respondWith(fetch(request).catch(function () {
    return caches.match(CONFIG.offline).then(function (page) { return page || Response.error(); });
  }));
});

// Pages ask for a few pages to be kept ahead (the households on 我的帮扶户),
// to forget the kept pages, or to send drafts now.
function keepAhead(urls) {
  return caches.open(PAGES).then(function (cache) {
    return urls.reduce(function (chain, href) {
      var url = new URL(href, self.location.origin);
      if (url.origin !== self.location.origin || !keptPage(url)) return chain;
      return chain.then(function () {
        return cache.match(pageKey(url)).then(function (kept) {
          if (kept) return null;
          return fetch(url.href, { credentials: "same-origin" }).then(function (response) {
            return storePage(url, response);
          }, function () { return null; });
        });
      });
    }, Promise.resolve());
  });
}

function tellPages(message) {
  return self.clients.matchAll({ type: "window" }).then(function (clients) {
    clients.forEach(function (client) { client.postMessage(message); });
  });
}

function sendDrafts() {
  return VisitDrafts.getMeta("user").then(function (user) {
    if (!user || !user.id) return [];
    return VisitDrafts.sendAll(user.id, user.csrf, false);
  }).then(function (results) {
    var sent = results.filter(function (r) { return r.state === "sent"; }).length;
    if (results.length) return tellPages({ type: "drafts-changed", sent: sent });
    return null;
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "keep") event.waitUntil(keepAhead(data.urls || []));
  if (data.type === "forget") event.waitUntil(caches.delete(PAGES));
});

self.addEventListener("sync", function (event) {
  if (event.tag === "visit-drafts") event.waitUntil(sendDrafts());
});
