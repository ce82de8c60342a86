/* Employer and posting forms (issue 14 §2): the place picked on a map (#pick-map → #f-lat/#f-lon),
 * the skills picker (search, count, at most data-max), and a wage range upside down said at once.
 * The server checks everything again; without JavaScript the form still works (the employer's
 * place stays the default position). */
(function () {
  "use strict";

  function fmt(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return values[k] !== undefined ? String(values[k]) : m; });
  }

  // --- the place on the map
  var lat = document.getElementById("f-lat"), lon = document.getElementById("f-lon");
  var where = document.getElementById("f-where"), mapEl = document.getElementById("pick-map");
  var map = null, marker = null;
  function gcj(mapEl) { return mapEl && mapEl.dataset.tiles && mapEl.dataset.crs === "gcj02" && window.linliWgs84ToGcj02; }
  function setPosition(la, lo) {
    lat.value = la.toFixed(6);
    lon.value = lo.toFixed(6);
    where.textContent = where.dataset.picked + " (" + lat.value + ", " + lon.value + ")";
    if (map) {
      var ll = [la, lo];
      if (gcj(mapEl)) { var g = window.linliWgs84ToGcj02(lo, la); ll = [g[1], g[0]]; }
      if (!marker) marker = L.circleMarker(ll, { radius: 10, color: "#b3261e", weight: 3, fillOpacity: 0.4 }).addTo(map);
      else marker.setLatLng(ll);
    }
  }
  function toWgs(ll) {
    if (gcj(mapEl)) {
      var g = window.linliWgs84ToGcj02(ll.lng, ll.lat);
      return { lat: ll.lat - (g[1] - ll.lat), lng: ll.lng - (g[0] - ll.lng) };
    }
    return ll;
  }
  function attach() {
    if (!mapEl || !mapEl._linliMap) return false;
    map = mapEl._linliMap;
    map.on("click", function (e) { var ll = toWgs(e.latlng); setPosition(ll.lat, ll.lng); });
    map.eachLayer(function (l) {
      if (!l.feature) return;
      l.unbindPopup();
      l.on("click", function (e) { var ll = toWgs(e.latlng); setPosition(ll.lat, ll.lng); });
    });
    if (lat.value && lon.value) {
      setPosition(parseFloat(lat.value), parseFloat(lon.value));
      map.setView(marker.getLatLng(), Math.min(Math.max(map.getZoom(), 14), 16));
    }
    mapEl.dataset.pick = "1";
    return true;
  }
  if (lat && lon && where && mapEl && !attach()) {
    var tries = 0, timer = window.setInterval(function () {
      tries += 1;
      if (attach() || tries > 100) window.clearInterval(timer);
    }, 50);
  }
  var locate = document.getElementById("f-locate");
  if (locate && lat) {
    locate.addEventListener("click", function () {
      if (!navigator.geolocation) { where.textContent = locate.dataset.failed; return; }
      where.textContent = locate.dataset.busy;
      navigator.geolocation.getCurrentPosition(
        function (p) {
          setPosition(p.coords.latitude, p.coords.longitude);
          if (map && marker) map.setView(marker.getLatLng(), Math.max(map.getZoom(), 16));
        },
        function () { where.textContent = locate.dataset.failed; },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  // --- the skills picker
  var picker = document.getElementById("skills");
  if (picker) {
    var max = parseInt(picker.dataset.max || "8", 10);
    var count = document.getElementById("skills-count"), search = document.getElementById("f-skill-search");
    var boxes = Array.prototype.slice.call(picker.querySelectorAll("input[name=skills]"));
    var refresh = function () {
      var n = boxes.filter(function (b) { return b.checked; }).length;
      boxes.forEach(function (b) { b.disabled = !b.checked && n >= max; });
      count.textContent = fmt(count.dataset.text, { n: n, max: max }) + (n >= max ? " · " + count.dataset.full : "");
    };
    boxes.forEach(function (b) { b.addEventListener("change", refresh); });
    if (search) {
      search.addEventListener("input", function () {
        var words = search.value.trim().toLowerCase();
        picker.querySelectorAll("li[data-keywords]").forEach(function (li) {
          li.hidden = !!words && li.dataset.keywords.toLowerCase().indexOf(words) < 0;
        });
        picker.querySelectorAll("details.skill-group").forEach(function (d) {
          var any = d.querySelector("li[data-keywords]:not([hidden])");
          d.hidden = !any;
          if (words && any) d.open = true;
        });
      });
    }
    refresh();
  }

  // --- the wage range
  var lo = document.getElementById("f-wage-min"), hi = document.getElementById("f-wage-max");
  var wageState = document.getElementById("wage-state");
  if (lo && hi && wageState) {
    var check = function () {
      var a = parseInt(lo.value, 10), b = parseInt(hi.value, 10);
      var bad = !isNaN(a) && !isNaN(b) && a > b;
      wageState.textContent = bad ? wageState.dataset.upside : "";
      wageState.classList.toggle("bad", bad);
      hi.setAttribute("aria-invalid", bad ? "true" : "false");
    };
    lo.addEventListener("input", check);
    hi.addEventListener("input", check);
  }

  // one submit per form
  document.querySelectorAll("form.jobs-form").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (form.dataset.sent) { e.preventDefault(); return; }
      form.dataset.sent = "1";
    });
  });
})();
