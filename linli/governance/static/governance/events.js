/* Grid event pages: the report form (category search, attribute fields, position from the device
 * or the map, a client key kept until the report succeeds, possible duplicates nearby) and the
 * detail page's action forms (one submit each). Without JavaScript the forms still work: the
 * server's client key, the building list and the full category list are in the HTML. */
(function () {
  "use strict";

  function store(op, key, value) {
    try {
      if (op === "get") return window.sessionStorage.getItem(key);
      if (op === "set") window.sessionStorage.setItem(key, value);
      if (op === "del") window.sessionStorage.removeItem(key);
    } catch (e) { /* private mode: the server's key in the HTML still guards a double submit */ }
    return null;
  }

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // One submit per form: a second click while the first is on its way does nothing.
  function oneSubmit(form, label) {
    form.addEventListener("submit", function (e) {
      if (form.dataset.sent === "1") { e.preventDefault(); return; }
      form.dataset.sent = "1";
      var btn = form.querySelector("button[type=submit]:not([name=find])");
      if (btn) {
        btn.setAttribute("aria-busy", "true");
        if (label) btn.dataset.label = btn.textContent;
        window.setTimeout(function () { btn.disabled = true; if (label) btn.textContent = label; }, 0);
      }
    });
  }

  // Detail page: the report arrived, forget its key; the action forms submit once.
  var KEY = "linli-event-key:";
  var reported = document.querySelector("[data-event-reported]");
  if (reported) {
    store("del", KEY + "/governance/events/new/");
    store("del", KEY + "/governance/events/hotline/");
  }
  document.querySelectorAll("form.act").forEach(function (f) { oneSubmit(f, ""); });

  // Case page: one move's form at a time. The links work without JavaScript (?move=…); here they
  // show the chosen form without a reload and move the focus to it.
  var moveLinks = document.querySelectorAll(".move-list a[data-move]");
  moveLinks.forEach(function (link) {
    link.addEventListener("click", function (e) {
      var target = document.getElementById(link.dataset.move);
      if (!target) return;
      e.preventDefault();
      moveLinks.forEach(function (other) {
        var f = document.getElementById(other.dataset.move);
        var on = other === link;
        other.setAttribute("aria-expanded", on ? "true" : "false");
        if (f) f.hidden = !on;
      });
      try { window.history.replaceState(null, "", link.getAttribute("href")); } catch (err) { /* file: */ }
      var first = target.querySelector("select, textarea, input:not([type=hidden]), button");
      var heading = target.querySelector("h3");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
      else if (first) first.focus();
    });
  });

  var form = document.getElementById("event-form");
  if (!form) return;
  var path = new URL(form.action, window.location.href).pathname;
  var keyInput = document.getElementById("f-client-key");
  var key = store("get", KEY + path);
  if (!key) {
    key = uuid();
    store("set", KEY + path, key);
  }
  keyInput.value = key;

  var cat = document.getElementById("f-category");
  var search = document.getElementById("f-cat-search");
  var none = document.getElementById("f-cat-none");
  var lat = document.getElementById("f-lat"), lon = document.getElementById("f-lon");
  var where = document.getElementById("f-where");
  var building = document.getElementById("f-building");
  var nearby = document.getElementById("nearby"), nearbyBody = document.getElementById("nearby-body");

  // --- category: search by keyword, show the chosen category's attribute fields
  function filterCategories() {
    var words = (search.value || "").trim().toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
    cat.querySelectorAll("optgroup").forEach(function (g) {
      var any = false;
      g.querySelectorAll("option").forEach(function (o) {
        var text = (o.dataset.keywords + " " + o.textContent).toLowerCase();
        var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
        o.hidden = !ok;
        o.disabled = !ok;
        if (ok) { any = true; shown += 1; }
      });
      g.hidden = !any;
    });
    none.hidden = shown > 0;
    if (words.length && shown === 1) {
      var only = cat.querySelector("optgroup option:not([hidden])");
      if (only && cat.value !== only.value) { cat.value = only.value; changedCategory(); }
    }
  }
  function changedCategory() {
    form.querySelectorAll("fieldset.attrs").forEach(function (fs) {
      var on = fs.dataset.category === cat.value;
      fs.hidden = !on;
      fs.disabled = !on;
      fs.querySelectorAll("[data-required]").forEach(function (el) { el.required = on; });
    });
    askNearby();
  }
  search.addEventListener("input", filterCategories);
  cat.addEventListener("change", changedCategory);

  // --- where: the device, the map, or a building
  var map = null, marker = null, mapEl = document.getElementById("pick-map");
  function show(text) { where.textContent = text; }
  function setPosition(la, lo, text) {
    lat.value = la.toFixed(6);
    lon.value = lo.toFixed(6);
    if (building.value) building.value = "";
    show(text + " (" + lat.value + ", " + lon.value + ")");
    if (map) {
      var ll = [la, lo];
      if (mapEl.dataset.tiles && mapEl.dataset.crs === "gcj02" && window.linliWgs84ToGcj02) {
        var g = window.linliWgs84ToGcj02(lo, la);
        ll = [g[1], g[0]];
      }
      if (!marker) marker = L.circleMarker(ll, { radius: 10, color: "#b3261e", weight: 3, fillOpacity: 0.4 }).addTo(map);
      else marker.setLatLng(ll);
    }
    askNearby();
  }
  document.getElementById("f-locate").addEventListener("click", function () {
    if (!navigator.geolocation) { show(form.dataset.geoNone); return; }
    show(form.dataset.geoBusy);
    navigator.geolocation.getCurrentPosition(
      function (p) {
        var text = form.dataset.geoOk.replace("%s", String(Math.round(p.coords.accuracy || 0)));
        setPosition(p.coords.latitude, p.coords.longitude, text);
        if (map) map.setView(marker.getLatLng(), Math.max(map.getZoom(), 17));
      },
      function (err) { show(err && err.code === 1 ? form.dataset.geoDenied : form.dataset.geoFailed); },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  });
  building.addEventListener("change", function () {
    if (building.value) {
      lat.value = "";
      lon.value = "";
      if (marker && map) { map.removeLayer(marker); marker = null; }
      show(building.options[building.selectedIndex].textContent);
    }
    askNearby();
  });
  function toWgs(ll) {
    // a click on GCJ-02 tiles: shift back (one fixed-point step is within a metre)
    if (mapEl.dataset.tiles && mapEl.dataset.crs === "gcj02" && window.linliWgs84ToGcj02) {
      var g = window.linliWgs84ToGcj02(ll.lng, ll.lat);
      return { lat: ll.lat - (g[1] - ll.lat), lng: ll.lng - (g[0] - ll.lng) };
    }
    return ll;
  }
  function attachMap() {
    if (!mapEl || !mapEl._linliMap) return false;
    map = mapEl._linliMap;
    map.on("click", function (e) {
      var ll = toWgs(e.latlng);
      setPosition(ll.lat, ll.lng, form.dataset.mapPicked);
    });
    // On this map a tap picks a place: a building's dot picks that building, a tap inside a
    // grid's outline picks the point (no popups to open).
    map.eachLayer(function (l) {
      var p = l.feature && l.feature.properties;
      if (!p) return;
      l.unbindPopup();
      l.on("click", function (e) {
        if (p.building) {
          ensureOption(p.building, p.name);
          building.value = String(p.building);
          building.dispatchEvent(new Event("change"));
        } else {
          var ll = toWgs(e.latlng);
          setPosition(ll.lat, ll.lng, form.dataset.mapPicked);
        }
      });
    });
    if (lat.value && lon.value) setPosition(parseFloat(lat.value), parseFloat(lon.value), form.dataset.mapPicked);
    return true;
  }
  if (!attachMap()) {
    var tries = 0, timer = window.setInterval(function () {
      tries += 1;
      if (attachMap() || tries > 50) window.clearInterval(timer);
    }, 100);
  }

  // --- the hotline desk: find a building by typing (the "Find" button does the same without JS)
  var finder = form.querySelector(".place-find");
  var placeQ = document.getElementById("f-place-q"), placeStatus = document.getElementById("f-place-status");
  function ensureOption(pk, label) {
    var value = String(pk);
    for (var i = 0; i < building.options.length; i++) if (building.options[i].value === value) return;
    var o = document.createElement("option");
    o.value = value;
    o.textContent = label || ("#" + value);
    building.appendChild(o);
  }
  if (finder && placeQ) {
    var placeTimer = null, placeAsked = null;
    var findPlaces = function () {
      var text = placeQ.value.trim();
      if (!text) return;
      var url = finder.dataset.places + "?" + new URLSearchParams({ q: text }).toString();
      placeAsked = url;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) {
          if (placeAsked !== url) return;
          var keep = building.value;
          var kept = keep ? building.options[building.selectedIndex] : null;
          if (kept) building.options[0].after(kept);  // out of its group, which goes
          building.querySelectorAll("optgroup, option:not([value=''])").forEach(function (o) {
            if (o !== kept) o.remove();
          });
          var group = document.createElement("optgroup");
          group.label = placeQ.getAttribute("aria-label") || "";
          (data.results || []).forEach(function (b) {
            if (b.pk === parseInt(keep, 10)) return;
            var o = document.createElement("option");
            o.value = String(b.pk);
            o.textContent = b.label + (b.community ? " · " + b.community : "");
            group.appendChild(o);
          });
          if (group.children.length) building.appendChild(group);
          var n = (data.results || []).length;
          placeStatus.textContent = n ? finder.dataset.foundSome + " " + String(n) : finder.dataset.foundNone;
          if (n === 1 && !keep) {
            building.value = String(data.results[0].pk);
            building.dispatchEvent(new Event("change"));
          }
        })
        .catch(function () { /* the Find button still works */ });
    };
    placeQ.addEventListener("input", function () {
      window.clearTimeout(placeTimer);
      placeTimer = window.setTimeout(findPlaces, 250);
    });
    placeQ.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); window.clearTimeout(placeTimer); findPlaces(); }
    });
  }

  // --- possible duplicates nearby, once category and place are known
  var pending = null;
  function askNearby() {
    if (!cat.value || !((lat.value && lon.value) || building.value)) { nearby.hidden = true; return; }
    var params = new URLSearchParams({ category: cat.value });
    if (lat.value && lon.value) { params.set("lat", lat.value); params.set("lon", lon.value); }
    else params.set("building", building.value);
    var url = form.dataset.nearby + "?" + params.toString();
    pending = url;
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        if (pending !== url) return;
        nearbyBody.innerHTML = html;
        nearby.hidden = !html.trim();
      })
      .catch(function () { nearby.hidden = true; });
  }

  // --- photos: at most N
  var photos = document.getElementById("f-photos");
  photos.addEventListener("change", function () {
    var max = parseInt(photos.dataset.max, 10);
    photos.setCustomValidity(photos.files.length > max ? photos.dataset.tooMany : "");
    photos.reportValidity();
  });

  oneSubmit(form, form.dataset.sending);
  changedCategory();
  var errors = document.getElementById("errors");
  if (errors) errors.focus();
})();
