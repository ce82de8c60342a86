/* Small page behaviours shared by Linli's pages (htmx is loaded by base.html). */
(function () {
  "use strict";
  // A refused reveal (400 no reason, 403 role, 404 scope) answers with a short message fragment:
  // show it where the value would have appeared instead of htmx's default of dropping 4xx bodies.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var status = e.detail.xhr.status, elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    if ((status === 400 || status === 403 || status === 404) && elt && elt.closest && elt.closest("form.reveal-form")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
})();
