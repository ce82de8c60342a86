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
    // An import that was refused (400 with row-numbered problems, 413 too large, 409/503 busy)
    // answers with the whole page: show it, like a plain form post would.
    if (status >= 400 && status < 600 && elt && elt.closest && elt.closest("form.upload-form")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  // Long imports: show the upload's progress, then that the server is checking and writing.
  function progressOf(e) {
    var form = e.target && e.target.closest && e.target.closest("form.upload-form");
    return form ? {form: form, box: form.querySelector(".upload-progress")} : null;
  }
  document.addEventListener("htmx:beforeRequest", function (e) {
    var p = progressOf(e);
    if (!p || !p.box) return;
    p.box.hidden = false;
    p.box.querySelector(".upload-state").textContent = p.form.dataset.uploading || "";
    p.form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  });
  document.addEventListener("htmx:xhr:progress", function (e) {
    var p = progressOf(e);
    if (!p || !p.box || !e.detail.lengthComputable) return;
    var bar = p.box.querySelector("progress"), pct = Math.round(100 * e.detail.loaded / e.detail.total);
    bar.value = pct;
    if (pct >= 100) {
      bar.removeAttribute("value");  // indeterminate while the server checks and writes
      p.box.querySelector(".upload-state").textContent = p.form.dataset.processing || "";
    }
  });
})();
