/* Each form with a hidden [data-client-key] input gets a fresh random key when the page opens, so a
   submission sent twice (double tap, retry on a bad network) is recorded once. A static file, not an
   inline script: the Content-Security-Policy allows scripts from this site only. */
(function () {
  "use strict";
  document.querySelectorAll("[data-client-key]").forEach(function (el) {
    el.value = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
  });
})();
