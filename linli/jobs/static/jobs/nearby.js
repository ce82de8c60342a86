/* Nearby jobs (issue 14 §3): the map of the seeker's approximate home, the chosen distance and the
 * jobs found (numbered as in the list), from the JSON in <script id="nearby-data" type="application/json">.
 * The list below the map is its text alternative; the filters submit themselves when changed. */
(function () {
  "use strict";

  function shift(lat, lon, el) {
    if (el.dataset.tiles && el.dataset.crs === "gcj02" && window.linliWgs84ToGcj02) {
      var p = window.linliWgs84ToGcj02(lon, lat);
      return [p[1], p[0]];
    }
    return [lat, lon];
  }

  function popup(p, openLabel) {
    var box = document.createElement("div"), title = document.createElement("strong");
    title.textContent = p.n + ". " + p.title;
    box.appendChild(title);
    var line = document.createElement("div");
    line.textContent = p.employer + " · " + p.km + " km · " + p.percent + "%";
    box.appendChild(line);
    if (p.url) {
      var a = document.createElement("a");
      a.href = p.url;
      a.textContent = openLabel;
      box.appendChild(a);
    }
    return box;
  }

  function pick(id) {
    document.querySelectorAll(".job.is-picked").forEach(function (li) { li.classList.remove("is-picked"); });
    var li = document.getElementById("job-" + id);
    if (li) li.classList.add("is-picked");
  }

  function draw(el) {
    var node = document.getElementById(el.dataset.nearby);
    if (!node || typeof L === "undefined") return;
    var data = JSON.parse(node.textContent);
    var tiles = el.dataset.tiles || "";
    var map = L.map(el, { attributionControl: !!tiles, zoomSnap: 0.25, scrollWheelZoom: false });
    if (tiles) L.tileLayer(tiles, { attribution: el.dataset.attribution || "", maxZoom: 19 }).addTo(map);
    var home = shift(data.home[0], data.home[1], el);
    map.setView(home, 13);  // a view first: the circle's bounds need the map's projection
    var circle = L.circle(home, { radius: data.radius_m, color: "#1a56db", weight: 1, fillOpacity: 0.05 }).addTo(map);
    L.circleMarker(home, { radius: 8, color: "#1a56db", weight: 3, fillColor: "#fff", fillOpacity: 1 })
      .bindTooltip(el.dataset.homeLabel || "").addTo(map);
    var markers = L.layerGroup().addTo(map);
    (data.postings || []).forEach(function (p) {
      var icon = L.divIcon({ className: "", html: "", iconSize: [26, 26] });
      var m = L.marker(shift(p.lat, p.lon, el), { icon: icon, title: p.n + ". " + p.title, keyboard: true, alt: p.title });
      m.bindPopup(popup(p, el.dataset.openLabel || ""));
      m.on("click", function () { pick(p.id); });
      m.addTo(markers);
      var node = m.getElement();
      if (node) {
        var badge = document.createElement("span");
        badge.className = "job-marker";
        badge.textContent = String(p.n);
        node.appendChild(badge);
        node.dataset.pk = String(p.id);
      }
    });
    map.fitBounds(circle.getBounds(), { padding: [8, 8] });
    el.dataset.markers = String((data.postings || []).length);
    el.dataset.ready = "1";
    el._linliMap = map;
  }

  function autoSubmit(form) {
    form.querySelectorAll("select, input[type=radio]").forEach(function (input) {
      input.addEventListener("change", function () {
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      });
    });
  }

  function init() {
    document.querySelectorAll(".map[data-nearby]").forEach(draw);
    var form = document.getElementById("nearby-filters");
    if (form) autoSubmit(form);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
