/* The 就近帮 kiosk (issue 14 §5): the on-screen keypads, the idle timer with its countdown, the
   slip's print and show buttons, and no history for the next person. No inline scripts (CSP). */
(function () {
  "use strict";
  var body = document.body;
  var IDLE = parseInt(body.dataset.idle, 10) || 60;
  var WARN = Math.min(parseInt(body.dataset.warn, 10) || 10, IDLE);
  var active = body.dataset.active === "1";
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");

  // --- keypads -------------------------------------------------------------------------------------
  function counter(input) {
    var out = document.querySelector("[data-count-for='" + input.id + "']");
    if (!out) return;
    var of = out.dataset.of || input.maxLength;
    out.textContent = input.value.length + " / " + of;
  }
  document.querySelectorAll("[data-keypad]").forEach(function (pad) {
    var input = document.getElementById(pad.dataset.keypad);
    if (!input) return;
    counter(input);
    input.addEventListener("input", function () {
      input.value = input.value.toUpperCase().replace(/[^0-9X]/g, "");
      counter(input);
    });
    pad.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-key]");
      if (!b) return;
      var k = b.dataset.key, v = input.value;
      if (k === "back") v = v.slice(0, -1);
      else if (k === "clear") v = "";
      else if (input.maxLength < 0 || v.length < input.maxLength) v += k;
      input.value = v;
      counter(input);
    });
  });

  // --- idle: back to the start, nothing left -------------------------------------------------------
  var dialog = document.getElementById("k-idle");
  var countEl = dialog && dialog.querySelector(".k-count");
  var last = Date.now(), lastPing = Date.now(), ended = false;

  function post(url) {
    var data = new FormData();
    if (csrf) data.append("csrfmiddlewaretoken", csrf.value);
    return fetch(url, {method: "POST", body: data, credentials: "same-origin", cache: "no-store"});
  }
  function clearScreen() {
    document.querySelectorAll("form").forEach(function (f) { f.reset(); });
    document.querySelectorAll("input:not([type=hidden])").forEach(function (i) {
      if (i.type === "checkbox") i.checked = false; else i.value = "";
    });
    var main = document.getElementById("main");
    if (main) main.textContent = "";
  }
  function end() {
    if (ended) return;
    ended = true;
    clearScreen();
    var home = function () { location.replace(body.dataset.home); };
    post(body.dataset.finish).then(home, home);
  }
  function activity() {
    if (ended) return;
    last = Date.now();
    if (dialog && !dialog.hidden) dialog.hidden = true;
    // tell the server the person is still here (it ends idle sessions too), at most every 15 s
    if (active && Date.now() - lastPing > 15000) {
      lastPing = Date.now();
      post(body.dataset.alive).then(function (r) { if (r.status === 410) end(); }, function () {});
    }
  }
  if (active) {
    ["pointerdown", "keydown", "input", "wheel", "touchstart"].forEach(function (t) {
      document.addEventListener(t, function (e) {
        if (dialog && !dialog.hidden && !e.target.closest("[data-continue]")) return;
        activity();
      }, {passive: true, capture: true});
    });
    if (dialog) dialog.querySelector("[data-continue]").addEventListener("click", function () {
      lastPing = 0;
      activity();
    });
    setInterval(function () {
      var left = IDLE - Math.floor((Date.now() - last) / 1000);
      if (left <= 0) { end(); return; }
      if (left <= WARN && dialog) {
        if (dialog.hidden) { dialog.hidden = false; dialog.querySelector("[data-continue]").focus(); }
        countEl.textContent = String(left);
      }
    }, 250);
  }

  // --- finish: the same end, without a history entry -------------------------------------------------
  document.querySelectorAll("[data-finish-form]").forEach(function (f) {
    f.addEventListener("submit", function (e) { e.preventDefault(); end(); });
  });

  // --- no history: links replace the page, the back button cannot reach the previous person -----------
  document.addEventListener("click", function (e) {
    var a = e.target.closest("a[href]");
    if (!a || e.defaultPrevented || a.target || e.ctrlKey || e.metaKey || e.shiftKey) return;
    if (a.origin !== location.origin || a.pathname.indexOf("/kiosk/") !== 0) return;
    e.preventDefault();
    location.replace(a.href);
  });
  history.replaceState(null, "", location.href);
  window.addEventListener("pageshow", function (e) { if (e.persisted) location.reload(); });
  if (body.dataset.screen === "home") {
    history.pushState(null, "", location.href);
    window.addEventListener("popstate", function () { history.pushState(null, "", location.href); });
  }

  // --- the slip: print, show it big --------------------------------------------------------------------
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("[data-show]").forEach(function (b) {
    b.addEventListener("click", function () {
      var on = body.classList.toggle("k-showing");
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  });
})();
