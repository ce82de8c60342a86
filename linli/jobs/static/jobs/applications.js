/* Applications (issue 14 §4): the slip's print button. No inline scripts (CSP script-src 'self'). */
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t && t.closest && t.closest("[data-print]")) {
      e.preventDefault();
      window.print();
    }
  });
})();
