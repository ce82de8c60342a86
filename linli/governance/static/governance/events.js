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

  // --- photos are made smaller and stamped on the phone (report-photos.js) before they are sent
  var lastFix = null; // the device's own position (for the photos' stamp), when it gave one
  var canSwap = (function () {
    try { return typeof DataTransfer === "function" && !!new DataTransfer().items && !!window.linliPhotos; }
    catch (e) { return false; }
  })();
  function freshFix() {
    // a position for the stamp without asking again: only when the person already allowed it
    // (a fix older than two minutes is asked again; kept when no new one comes)
    var fresh = lastFix && Date.now() - lastFix.at < 120000;
    if (fresh || !navigator.geolocation || !navigator.permissions) return Promise.resolve(lastFix);
    return navigator.permissions.query({ name: "geolocation" }).then(function (st) {
      if (st.state !== "granted") return lastFix;
      return new Promise(function (resolve) {
        navigator.geolocation.getCurrentPosition(
          function (p) {
            lastFix = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy, at: Date.now() };
            resolve(lastFix);
          },
          function () { resolve(lastFix); },
          { enableHighAccuracy: true, timeout: 4000, maximumAge: 120000 }
        );
      });
    }, function () { return lastFix; });
  }
  // The case page's photos (after handling, at verification): shrunk and stamped with the time
  // (and the position when the device gives it), then the ordinary POST carries them.
  document.querySelectorAll("form.act input[type=file][data-max-bytes]").forEach(function (input) {
    if (!canSwap) return;
    var f = input.form, busy = Promise.resolve(), pending = 0, waiting = false;
    var note = document.createElement("p");
    note.className = "muted";
    note.setAttribute("aria-live", "polite");
    input.parentNode.insertBefore(note, input.nextSibling);
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      if (!files.length) return;
      pending += 1;
      busy = busy.then(function () {
        return files.reduce(function (p, file) {
          return p.then(function (out) {
            return freshFix().then(function (fix) {
              var st = { date: new Date(file.lastModified && file.lastModified <= Date.now() ? file.lastModified : Date.now()),
                lat: fix ? fix.lat : null, lon: fix ? fix.lon : null, accuracy: fix ? fix.accuracy : null, place: "" };
              return window.linliPhotos.shrink(file, st, parseInt(input.dataset.maxBytes, 10));
            }).then(function (r) { out.push(r); return out; }, function () {
              out.push({ file: file, before: file.size, after: file.size }); return out;
            });
          });
        }, Promise.resolve([])).then(function (out) {
          var dt = new DataTransfer(), P = window.linliPhotos;
          out.forEach(function (r) { dt.items.add(r.file); });
          input.files = dt.files;
          note.textContent = out.map(function (r) {
            return input.dataset.shrunk.replace("{before}", P.sizeText(r.before)).replace("{after}", P.sizeText(r.after));
          }).join("; ");
        });
      }).then(function () { pending -= 1; }, function () { pending -= 1; });
    });
    f.addEventListener("submit", function (e) {
      if (!pending) return;
      e.preventDefault();
      if (waiting) return;
      waiting = true;
      busy.then(function () { HTMLFormElement.prototype.submit.call(f); });
    });
  });

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
        lastFix = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy, at: Date.now() };
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

  // --- photos: at most N, made smaller and stamped on the phone (report-photos.js); the shrunk
  // files replace the chosen ones in the input, so the ordinary POST carries them
  var photos = document.getElementById("f-photos");
  var photoList = document.getElementById("f-photo-list");
  var maxPhotos = parseInt(photos.dataset.max, 10);
  var maxBytes = parseInt(photos.dataset.maxBytes, 10) || 8 * 1024 * 1024;
  var address = document.getElementById("f-address");
  var description = document.getElementById("f-description");
  var chosen = []; // {file, name, stamp (the photo_stamp JSON), before, after, kept}
  var shrinking = Promise.resolve(), pendingShrinks = 0;
  var stampBox = document.createElement("div");
  stampBox.hidden = true;
  photos.parentNode.insertBefore(stampBox, photoList.nextSibling);
  if (canSwap) document.getElementById("f-photos-hint").hidden = false;

  function placeName() {
    if (building.value && building.selectedIndex > 0) return building.options[building.selectedIndex].textContent.trim();
    return (address.value || "").trim();
  }
  function stampFor(at) {
    return freshFix().then(function (fix) {
      var st = { date: at, lat: null, lon: null, accuracy: null, place: placeName() };
      if (fix) { st.lat = fix.lat; st.lon = fix.lon; st.accuracy = fix.accuracy; }
      else if (lat.value && lon.value) { st.lat = parseFloat(lat.value); st.lon = parseFloat(lon.value); }
      return st;
    });
  }
  function photoNote(c) {
    var P = window.linliPhotos;
    if (c.kept) return photos.dataset.kept.replace("{size}", P.sizeText(c.after));
    return photos.dataset.shrunk.replace("{before}", P.sizeText(c.before)).replace("{after}", P.sizeText(c.after));
  }
  function syncPhotos(problem) {
    if (!canSwap) return;
    var dt = new DataTransfer();
    chosen.forEach(function (c) { dt.items.add(c.file); });
    photos.files = dt.files;
    stampBox.textContent = "";
    chosen.forEach(function (c) {
      var h = document.createElement("input");
      h.type = "hidden";
      h.name = "photo_stamp";
      h.value = c.stamp;
      stampBox.appendChild(h);
    });
    photoList.textContent = "";
    chosen.forEach(function (c, i) {
      var li = document.createElement("li"), text = document.createElement("span");
      var name = photos.dataset.photo.replace("{n}", String(i + 1));
      text.textContent = name + ": " + photoNote(c);
      li.appendChild(text);
      var rm = document.createElement("button");
      rm.type = "button";
      rm.className = "secondary";
      rm.textContent = photos.dataset.remove;
      rm.setAttribute("aria-label", photos.dataset.remove + " " + name);
      rm.addEventListener("click", function () { chosen.splice(i, 1); syncPhotos(); saveSoon(); photos.focus(); });
      li.appendChild(rm);
      photoList.appendChild(li);
    });
    if (problem) {
      var bad = document.createElement("li");
      bad.className = "error";
      bad.setAttribute("role", "alert");
      bad.textContent = problem;
      photoList.appendChild(bad);
    }
    if (pendingShrinks) {
      var busy = document.createElement("li");
      busy.textContent = photos.dataset.shrinking;
      busy.setAttribute("aria-busy", "true");
      photoList.appendChild(busy);
    }
  }
  function shrinkOne(file) {
    var now = Date.now();
    var at = new Date(file.lastModified && file.lastModified <= now ? file.lastModified : now);
    return stampFor(at).then(function (st) {
      return window.linliPhotos.shrink(file, st, maxBytes).then(function (out) {
        return { file: out.file, name: out.file.name, stamp: window.linliPhotos.stampFields(st), before: out.before, after: out.after, kept: false };
      });
    }).catch(function () {
      // not decodable here (the server checks it and says why if it is not a photo)
      return { file: file, name: file.name, stamp: "", before: file.size, after: file.size, kept: true };
    });
  }
  photos.addEventListener("change", function () {
    var files = Array.prototype.slice.call(photos.files || []);
    if (!canSwap) {
      photos.setCustomValidity(files.length > maxPhotos ? photos.dataset.tooMany : "");
      photos.reportValidity();
      return;
    }
    // each pick adds to the photos already chosen (the camera takes one at a time)
    if (chosen.length + pendingShrinks + files.length > maxPhotos) {
      syncPhotos(photos.dataset.tooMany); // the photos chosen before stay
      return;
    }
    pendingShrinks += files.length;
    syncPhotos();
    shrinking = shrinking.then(function () {
      return files.reduce(function (p, f) {
        return p.then(function () {
          return shrinkOne(f).then(function (c) { chosen.push(c); pendingShrinks -= 1; syncPhotos(); });
        });
      }, Promise.resolve());
    }).then(function () { saveSoon(); });
  });

  // --- drafts (report-drafts.js): the report being written is kept on the phone; sent while
  // offline (or the server does not answer) it waits and is sent by itself when the signal is back,
  // with the same client key, so it never makes a second case
  var drafts = window.linliDrafts;
  var draftsOn = form.dataset.drafts === "1" && !!drafts && drafts.available && canSwap && !!window.fetch;
  var box = document.getElementById("drafts");
  var boxList = document.getElementById("drafts-list"), boxStatus = document.getElementById("drafts-status");
  var submitting = false, saveTimer = null, pumping = false, pumpTimer = null;
  function noop() {}
  function csrf() { return form.querySelector("[name=csrfmiddlewaretoken]").value; }
  function hasContent() {
    return !!(cat.value || description.value.trim() || chosen.length || lat.value || building.value || address.value.trim());
  }
  function labelOf() {
    var text = cat.value && cat.selectedIndex > 0 ? cat.options[cat.selectedIndex].textContent : box.dataset.noCategory;
    var d = description.value.trim();
    return text + (d ? " · " + (d.length > 30 ? d.slice(0, 30) + "…" : d) : "");
  }
  function collect(state) {
    var fields = [];
    new FormData(form).forEach(function (v, n) {
      if (typeof v === "string" && n !== "photo_stamp" && n !== "csrfmiddlewaretoken") fields.push([n, v]);
    });
    return {
      key: keyInput.value, path: path, action: form.action, state: state, fields: fields,
      photos: chosen.map(function (c) { return { blob: c.file, name: c.name, stamp: c.stamp, before: c.before, after: c.after, kept: c.kept }; }),
      label: labelOf(), savedAt: Date.now(), tries: 0, nextAt: 0, errors: [],
    };
  }
  function saveSoon() {
    if (!draftsOn) return;
    window.clearTimeout(saveTimer);
    saveTimer = window.setTimeout(function () {
      if (submitting) return;
      if (hasContent()) drafts.put(collect("editing")).catch(noop);
      else drafts.remove(keyInput.value).catch(noop);
    }, 400);
  }
  function restore(rec) {
    keyInput.value = rec.key;
    store("set", KEY + path, rec.key);
    var byName = {};
    (rec.fields || []).forEach(function (p) { (byName[p[0]] = byName[p[0]] || []).push(p[1]); });
    if (byName.category) cat.value = byName.category[0];
    changedCategory();
    Array.prototype.forEach.call(form.elements, function (el) {
      var vals = byName[el.name];
      if (!vals || el.type === "file" || el.name === "client_key" || el.name === "csrfmiddlewaretoken") return;
      if (el.type === "checkbox" || el.type === "radio") el.checked = vals.indexOf(el.value) >= 0;
      else if (el.multiple) Array.prototype.forEach.call(el.options, function (o) { o.selected = vals.indexOf(o.value) >= 0; });
      else el.value = vals[0];
    });
    if (building.value && building.selectedIndex > 0) show(building.options[building.selectedIndex].textContent);
    else if (lat.value && lon.value) setPosition(parseFloat(lat.value), parseFloat(lon.value), form.dataset.mapPicked);
    chosen = (rec.photos || []).map(function (p) {
      return { file: new File([p.blob], p.name, { type: p.blob.type || "image/jpeg" }), name: p.name, stamp: p.stamp, before: p.before, after: p.after, kept: p.kept };
    });
    syncPhotos();
    askNearby();
  }
  function blank() {
    form.reset();
    filterCategories(); // the search box is empty again: every category shows
    lat.value = "";
    lon.value = "";
    building.value = "";
    cat.value = "";
    changedCategory();
    show("");
    if (marker && map) { map.removeLayer(marker); marker = null; }
    chosen = [];
    syncPhotos();
    key = uuid();
    keyInput.value = key;
    store("set", KEY + path, key);
    var old = document.getElementById("errors");
    if (old) old.remove();
  }
  function release() {
    submitting = false;
    form.dataset.sent = "";
    var btn = form.querySelector("button[type=submit]:not([name=find])");
    if (btn) {
      window.setTimeout(function () {
        btn.disabled = false;
        btn.removeAttribute("aria-busy");
        if (btn.dataset.label) btn.textContent = btn.dataset.label;
      }, 0);
    }
  }
  function showErrors(list) {
    var div = document.getElementById("errors");
    if (!div) {
      div = document.createElement("div");
      div.className = "errors";
      div.id = "errors";
      div.setAttribute("role", "alert");
      div.setAttribute("tabindex", "-1");
      div.dataset.testid = "errors";
      form.parentNode.insertBefore(div, form);
    }
    div.textContent = "";
    var ul = document.createElement("ul");
    list.forEach(function (t) { var li = document.createElement("li"); li.textContent = t; ul.appendChild(li); });
    div.appendChild(ul);
    div.focus();
  }
  function say(text) { if (boxStatus) boxStatus.textContent = text; }
  function queue(rec) {
    rec.state = "waiting";
    rec.tries = 0;
    rec.nextAt = Date.now() + (navigator.onLine ? drafts.backoff(1) : 0);
    return drafts.put(rec).then(function () {
      blank();
      release();
      box.hidden = false;
      say(box.dataset.offline);
      renderBox();
      box.scrollIntoView({ block: "start" });
      if (navigator.onLine) schedule(drafts.backoff(1));
    }, function () {
      release();
      showErrors([form.dataset.sendFailed]);
    });
  }
  function submitDraft() {
    submitting = true;
    window.clearTimeout(saveTimer);
    var rec = collect("sending");
    rec.sendingSince = Date.now();
    if (!navigator.onLine) return queue(rec);
    return drafts.put(rec).catch(noop).then(function () {
      return withLock(rec.key, function () { return drafts.send(rec, csrf()); }).then(function (res) {
        return res || { kind: "retry", status: 0 };
      });
    }).then(function (res) {
      if (res.kind === "sent") {
        return drafts.remove(rec.key).catch(noop).then(function () { window.location.assign(res.url); });
      }
      if (res.kind === "refused") {
        rec.state = "editing";
        drafts.put(rec).catch(noop);
        release();
        showErrors(res.errors.length ? res.errors : [form.dataset.sendFailed]);
        return null;
      }
      return queue(rec); // no network, or the server did not answer: it waits and is sent again
    });
  }

  function timeText(ms) { var d = new Date(ms); return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2) + ":" + ("0" + d.getSeconds()).slice(-2); }
  function button(text, fn) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.textContent = text;
    b.addEventListener("click", fn);
    return b;
  }
  function renderBox() {
    if (!draftsOn) return Promise.resolve();
    return drafts.all().then(function (list) {
      var shown = list.filter(function (d) { return d.path === path && d.state !== "editing"; });
      boxList.textContent = "";
      shown.forEach(function (d) {
        var li = document.createElement("li");
        li.dataset.state = d.state;
        li.dataset.testid = "draft";
        var title = document.createElement("strong");
        title.textContent = d.label || box.dataset.noCategory;
        li.appendChild(title);
        var state = document.createElement("p");
        state.className = "draft-state";
        if (d.state === "sent") {
          var a = document.createElement("a");
          a.href = d.url;
          a.textContent = box.dataset.sent.replace("{pk}", String(d.pk));
          state.appendChild(a);
        } else if (d.state === "refused") {
          state.textContent = box.dataset.refused + " " + (d.errors || []).join(" ");
        } else if (d.state === "sending") {
          state.textContent = box.dataset.sending;
        } else {
          state.textContent = box.dataset.waiting + (d.tries ? " " + box.dataset.retryAt.replace("{time}", timeText(d.nextAt)) : "");
        }
        li.appendChild(state);
        var acts = document.createElement("p");
        acts.className = "actions";
        if (d.state === "waiting") acts.appendChild(button(box.dataset.sendNow, function () { sendNow(d.key); }));
        if (d.state === "refused") acts.appendChild(button(box.dataset.edit, function () { editRefused(d.key); }));
        if (d.state !== "sending") {
          acts.appendChild(button(box.dataset.discard, function () { drafts.remove(d.key).then(renderBox, noop); }));
        }
        li.appendChild(acts);
        boxList.appendChild(li);
      });
      box.hidden = !shown.length && !boxStatus.textContent;
    }, noop);
  }
  function sendNow(k) {
    drafts.update(k, function (r) { if (r.state !== "waiting") return null; r.nextAt = 0; return r; }).then(pump, noop);
  }
  function editRefused(k) {
    if (hasContent()) { say(box.dataset.busy); return; }
    var errs = [];
    drafts.update(k, function (r) { errs = r.errors || []; r.state = "editing"; r.errors = []; return r; }).then(function (r) {
      if (!r) return;
      drafts.remove(keyInput.value).catch(noop);
      restore(r);
      renderBox();
      showErrors(errs);
    }, noop);
  }
  function schedule(ms) {
    window.clearTimeout(pumpTimer);
    pumpTimer = window.setTimeout(pump, Math.max(0, ms));
  }
  // While a page sends a draft it holds a lock named after it (Web Locks: released when the page
  // goes away), so a draft left "sending" by a closed page is sent again at once by the next one.
  var hasLocks = !!(navigator.locks && navigator.locks.request);
  function withLock(k, fn) {
    if (!hasLocks) return fn();
    return navigator.locks.request("linli-draft:" + k, { ifAvailable: true }, function (lock) { return lock ? fn() : null; });
  }
  function sendOne(d) {
    return withLock(d.key, function () { return sendLocked(d); });
  }
  function sendLocked(d) {
    return drafts.update(d.key, function (cur) {
      if (cur.state !== d.state) return null; // another page has taken it
      cur.state = "sending";
      cur.sendingSince = Date.now();
      return cur;
    }).then(function (cur) {
      if (!cur) return null;
      renderBox();
      return drafts.send(cur, csrf()).then(function (res) {
        return drafts.update(cur.key, function (r) {
          if (res.kind === "sent") {
            r.state = "sent"; r.pk = res.pk; r.url = res.url; r.sentAt = Date.now(); r.photos = []; r.fields = [];
          } else if (res.kind === "refused") {
            r.state = "refused"; r.errors = res.errors;
          } else {
            r.state = "waiting"; r.tries = (r.tries || 0) + 1; r.nextAt = Date.now() + drafts.backoff(r.tries);
          }
          return r;
        });
      });
    });
  }
  // Send the drafts that wait (and those left "sending" by a page closed mid-way), one at a time.
  function pump() {
    if (!draftsOn || pumping) return;
    if (!navigator.onLine) { renderBox(); return; }
    pumping = true;
    drafts.all().then(function (list) {
      var now = Date.now();
      var due = list.filter(function (d) {
        if (d.path !== path) return false;
        if (d.state === "waiting") return (d.nextAt || 0) <= now;
        var stale = hasLocks || now - (d.sendingSince || 0) > 60000;
        return d.state === "sending" && stale && !(submitting && d.key === keyInput.value);
      });
      return due.reduce(function (p, d) { return p.then(function () { return sendOne(d); }); }, Promise.resolve());
    }).catch(noop).then(function () {
      pumping = false;
      return drafts.all();
    }).then(function (list) {
      renderBox();
      var next = (list || []).filter(function (d) { return d.path === path && d.state === "waiting"; })
        .map(function (d) { return d.nextAt || 0; });
      if (next.length) schedule(Math.min.apply(null, next) - Date.now());
    }, function () { pumping = false; });
  }

  form.addEventListener("input", saveSoon);
  form.addEventListener("change", saveSoon);
  form.addEventListener("submit", function (e) {
    if (e.submitter && e.submitter.name === "find") return; // the hotline's "Find": the page again
    if (form.dataset.sent === "1") return; // a second click: oneSubmit stops it
    if (draftsOn) {
      e.preventDefault();
      shrinking.then(submitDraft).catch(function () { release(); showErrors([form.dataset.sendFailed]); });
    } else if (pendingShrinks) {
      // the ordinary POST, once the photos are smaller
      e.preventDefault();
      shrinking.then(function () { HTMLFormElement.prototype.submit.call(form); });
    }
  });
  if (draftsOn) {
    window.addEventListener("online", function () { schedule(0); });
    window.addEventListener("offline", function () { renderBox(); });
    // on load: forget drafts sent more than a day ago, restore the one being written, send the rest
    drafts.all().then(function (list) {
      var day = Date.now() - 86400000, mine = null;
      list.forEach(function (d) {
        if (d.state === "sent" && (d.sentAt || 0) < day) drafts.remove(d.key).catch(noop);
        if (d.path === path && d.state === "editing") mine = d;
      });
      if (mine && !hasContent()) {
        restore(mine);
        box.hidden = false;
        say(box.dataset.restored);
      }
      pump();
    }, noop);
  }

  oneSubmit(form, form.dataset.sending);
  changedCategory();
  var errors = document.getElementById("errors");
  if (errors) errors.focus();
})();
