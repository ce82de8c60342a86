/* Alarm pages (issue 13). The board: htmx refreshes the list every 10 s (hx-trigger on #board-live);
 * a refresh is skipped while the page is hidden or while the keyboard focus is inside the list, so
 * nobody loses their place. The alarm page: one action's form at a time (the links work without
 * JavaScript, ?do=…); here they show the chosen form without a reload and move the focus to it. */
(function () {
  "use strict";

  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    if (!elt || elt.id !== "board-live") return;
    var active = document.activeElement;
    if (document.hidden || (active && active !== document.body && elt.contains(active))) e.preventDefault();
  });

  var links = document.querySelectorAll(".move-list a[data-do]");
  links.forEach(function (link) {
    link.addEventListener("click", function (e) {
      var target = document.getElementById(link.dataset.do);
      if (!target) return;
      e.preventDefault();
      links.forEach(function (other) {
        var f = document.getElementById(other.dataset.do);
        var on = other === link;
        other.setAttribute("aria-expanded", on ? "true" : "false");
        if (f) f.hidden = !on;
      });
      try { window.history.replaceState(null, "", link.getAttribute("href")); } catch (err) { /* file: */ }
      var heading = target.querySelector("h3");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
    });
  });

  // a form sent once: a second click while the first is on its way does nothing
  document.querySelectorAll("form.act").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (f.dataset.sent) { e.preventDefault(); return; }
      f.dataset.sent = "1";
    });
  });
})();
