/* Key-enterprise services (issue 14 §6). The request page shows one staff form at a time (the links
 * work without JavaScript, ?do=…); here they show the chosen form without a reload and move the focus
 * to it. Every form is sent once: a second click while the first is on its way does nothing. */
(function () {
  "use strict";

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

  document.querySelectorAll("form.act, form.service-form").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (f.dataset.sent) { e.preventDefault(); return; }
      f.dataset.sent = "1";
    });
  });

  var errors = document.getElementById("errors");
  if (errors) errors.focus();
})();
