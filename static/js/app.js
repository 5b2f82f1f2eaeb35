/* Small helpers for phone screens; no framework, nothing from a CDN.
 *
 * - A form that comes back with errors: the summary at its top lists them,
 *   and the first field with an error is scrolled into view. A link in the
 *   summary puts the cursor in its field.
 * - A table wider than the screen scrolls inside a box that says so: a
 *   shadow at the edge with more to see, and a "swipe sideways" hint.
 * - The ☰ menu closes with Escape or a tap outside it.
 */
(function () {
  "use strict";

  function firstInvalidField(root) {
    var box = root.querySelector(".field.invalid, .errorlist");
    if (!box) return null;
    var holder = box.classList.contains("field") ? box : box.closest(".field, fieldset, form") || box;
    return holder.querySelector("input:not([type=hidden]), select, textarea") || holder;
  }

  function inView(el) {
    var bar = document.querySelector(".topbar");
    var r = el.getBoundingClientRect();
    return r.top >= (bar ? bar.offsetHeight : 0) && r.bottom <= window.innerHeight;
  }

  function showErrors(root) {
    var summary = root.querySelector("[data-form-errors]");
    if (!summary) return;
    var form = summary.closest("form") || root;
    var field = firstInvalidField(form);
    var target = field || summary;
    if (inView(target) && inView(summary)) return;
    // The summary sits just above the fields: when both fit, show both.
    target.scrollIntoView({ block: "center" });
    var top = summary.getBoundingClientRect().top;
    var bottom = target.getBoundingClientRect().bottom;
    if (target !== summary && bottom - top < window.innerHeight * 0.8) {
      summary.scrollIntoView({ block: "start" });
    }
  }

  function onSummaryClick(event) {
    var link = event.target.closest && event.target.closest("[data-form-errors] a[href^='#']");
    if (!link) return;
    var id = decodeURIComponent(link.getAttribute("href").slice(1));
    var el = document.getElementById(id);
    if (!el) return;
    event.preventDefault();
    var input = el.matches("input, select, textarea") ? el : el.querySelector("input, select, textarea");
    (input || el).scrollIntoView({ block: "center" });
    if (input) input.focus({ preventScroll: true });
  }

  function markScroll(box) {
    var wide = box.scrollWidth > box.clientWidth + 1;
    box.classList.toggle("overflowing", wide);
    var hint = box.previousElementSibling;
    var hasHint = hint && hint.classList.contains("scroll-hint");
    if (wide && !hasHint) {
      hint = document.createElement("p");
      hint.className = "scroll-hint";
      hint.setAttribute("aria-hidden", "true");
      hint.textContent = (document.body.dataset.scrollHint || "") + " →";
      box.parentNode.insertBefore(hint, box);
    } else if (!wide && hasHint) {
      hint.remove();
    }
  }

  function wrapTables(root) {
    var tables = root.querySelectorAll("table");
    for (var i = 0; i < tables.length; i++) {
      var table = tables[i];
      var parent = table.parentElement;
      if (!parent) continue;
      if (parent.classList.contains("table-scroll") || parent.classList.contains("stat-scroll")) {
        parent.classList.add("table-scroll");
        markScroll(parent);
        continue;
      }
      // Only a table that does not fit gets a box, so nothing else moves.
      if (table.scrollWidth <= parent.clientWidth + 1) continue;
      var box = document.createElement("div");
      box.className = "table-scroll";
      parent.insertBefore(box, table);
      box.appendChild(table);
      markScroll(box);
    }
  }

  function rescan() {
    var boxes = document.querySelectorAll(".table-scroll");
    for (var i = 0; i < boxes.length; i++) markScroll(boxes[i]);
    wrapTables(document);
  }

  function closeMenus(event) {
    var menus = document.querySelectorAll("details.menu[open]");
    for (var i = 0; i < menus.length; i++) {
      if (event.type === "keydown" ? event.key === "Escape" : !menus[i].contains(event.target)) {
        menus[i].removeAttribute("open");
      }
    }
  }

  function ready() {
    wrapTables(document);
    showErrors(document);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
  document.addEventListener("click", onSummaryClick);
  document.addEventListener("click", closeMenus);
  document.addEventListener("keydown", closeMenus);
  document.addEventListener("htmx:afterSettle", function (event) {
    wrapTables(event.target);
    showErrors(event.target);
  });
  var timer = null;
  window.addEventListener("resize", function () {
    clearTimeout(timer);
    timer = setTimeout(rescan, 150);
  });
})();
