/* The unified social credit code checked as it is typed (GB 32100-2015; the same algorithm as
 * linli/jobs/creditcode.py, which checks again on the server). Messages come from the input's
 * data-* attributes (translated by the page). */
(function () {
  "use strict";
  var ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY", NEVER = "IOZSV";
  var input = document.getElementById("f-code"), state = document.getElementById("f-code-state");
  if (!input || !state) return;

  function normalise(text) {
    var out = "";
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (c >= 0xff01 && c <= 0xff5e) c -= 0xfee0;  // full-width forms → ASCII
      var ch = String.fromCharCode(c);
      if (/[\s\u3000\-\u2010-\u2014]/.test(ch)) continue;
      out += ch;
    }
    return out.toUpperCase();
  }
  function checkChar(first17) {
    var total = 0, w = 1;
    for (var i = 0; i < 17; i++) { total += ALPHABET.indexOf(first17[i]) * w; w = (w * 3) % 31; }
    return ALPHABET[(31 - (total % 31)) % 31];
  }
  function fmt(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return values[k] !== undefined ? String(values[k]) : m; });
  }
  // The first problem, or "" when the code is valid; null while it is still being typed.
  function problem(value, final) {
    for (var i = 0; i < value.length; i++) {
      var ch = value[i];
      if (ALPHABET.indexOf(ch) < 0) return fmt(NEVER.indexOf(ch) >= 0 ? input.dataset.never : input.dataset.bad, { i: i + 1, c: ch });
      if (i >= 2 && i <= 7 && !/[0-9]/.test(ch)) return fmt(input.dataset.division, { i: i + 1, c: ch });
    }
    if (value.length !== 18) return value.length > 18 || final ? fmt(input.dataset.length, { n: value.length }) : null;
    var expected = checkChar(value.slice(0, 17));
    if (value[17] !== expected) return fmt(input.dataset.check, { e: expected, c: value[17] });
    return "";
  }
  function show(final) {
    var value = normalise(input.value);
    if (!value) { state.textContent = ""; state.className = "code-state"; input.removeAttribute("aria-invalid"); return; }
    var p = problem(value, final);
    if (p === null) { state.textContent = ""; state.className = "code-state"; input.removeAttribute("aria-invalid"); return; }
    state.textContent = p || input.dataset.ok;
    state.className = "code-state " + (p ? "bad" : "ok");
    input.setAttribute("aria-invalid", p ? "true" : "false");
    state.dataset.valid = p ? "0" : "1";
  }
  input.addEventListener("input", function () { show(false); });
  input.addEventListener("blur", function () { var v = normalise(input.value); if (v) input.value = v; show(true); });
  if (input.value) show(true);
})();
