/* Linli maps: GeoJSON outlines drawn with Leaflet, on a blank background unless a tile URL is set.
 * <div class="map" data-src="url.geojson" | data-geojson="id-of-json-script"
 *      data-tiles="" data-attribution="" data-crs="wgs84|gcj02" data-households="households">
 * Data are WGS-84; a GCJ-02 tile layer (Chinese providers) needs them shifted: wgs84ToGcj02 below. */
(function () {
  "use strict";

  // WGS-84 → GCJ-02 (the standard published approximation; Krasovsky 1940 ellipsoid).
  var A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI;
  function outOfChina(lng, lat) { return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function tLat(x, y) {
    var r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * PI) + 320 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    return r;
  }
  function tLng(x, y) {
    var r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    return r;
  }
  function wgs84ToGcj02(lng, lat) {
    if (outOfChina(lng, lat)) return [lng, lat];
    var dLat = tLat(lng - 105.0, lat - 35.0), dLng = tLng(lng - 105.0, lat - 35.0);
    var radLat = lat / 180.0 * PI, magic = Math.sin(radLat);
    magic = 1 - EE * magic * magic;
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((A * (1 - EE)) / (magic * sqrtMagic) * PI);
    dLng = (dLng * 180.0) / (A / sqrtMagic * Math.cos(radLat) * PI);
    return [lng + dLng, lat + dLat];
  }
  function shift(coords) {
    if (typeof coords[0] === "number") return wgs84ToGcj02(coords[0], coords[1]);
    return coords.map(shift);
  }
  function shiftAll(fc) {
    (fc.features || []).forEach(function (f) {
      if (f.geometry && f.geometry.coordinates) f.geometry.coordinates = shift(f.geometry.coordinates);
    });
    return fc;
  }

  var STYLE = {
    street: { color: "#b3261e", weight: 2, fillOpacity: 0.12 },
    community: { color: "#b3261e", weight: 2, fillOpacity: 0.12 },
    compound: { color: "#b3261e", weight: 2, fillOpacity: 0.15 },
    grid: { color: "#1a56db", weight: 2, dashArray: "6 4", fillOpacity: 0.06 },
    footprint: { color: "#5b6475", weight: 1, fillOpacity: 0.3 },
    building: { color: "#1d2433", weight: 1, fillColor: "#fff", fillOpacity: 1 }
  };

  function popup(f, label) {
    var p = f.properties || {}, box = document.createElement("div"), a = document.createElement("a");
    a.href = p.url || "#";
    a.textContent = p.name || "";
    box.appendChild(a);
    if (p.households !== undefined) {
      var s = document.createElement("div");
      s.textContent = p.households + " " + label;
      box.appendChild(s);
    }
    return box;
  }

  function draw(el, data) {
    var tiles = el.dataset.tiles || "";
    if (tiles && el.dataset.crs === "gcj02") data = shiftAll(data);
    var map = L.map(el, { attributionControl: !!tiles, zoomSnap: 0.25, scrollWheelZoom: false });
    if (tiles) L.tileLayer(tiles, { attribution: el.dataset.attribution || "", maxZoom: 19 }).addTo(map);
    var label = el.dataset.households || "";
    var layer = L.geoJSON(data, {
      style: function (f) {
        var p = f.properties || {}, st = STYLE[p.kind] || STYLE.compound;
        // A feature may carry its own colour (e.g. buildings coloured by proposed grid).
        return p.color ? Object.assign({}, st, { color: p.color, fillColor: p.color, fillOpacity: 0.85 }) : st;
      },
      pointToLayer: function (f, ll) {
        return L.circleMarker(ll, { radius: 5 });
      },
      onEachFeature: function (f, l) {
        l.bindPopup(popup(f, label));
        if (f.properties && f.properties.name) l.bindTooltip(f.properties.name);
      }
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12], maxZoom: 18 });
    else map.setView([29.56, 106.55], 12);  // Chongqing, when nothing has a position yet
    el.dataset.features = String((data.features || []).length);
    el.dataset.ready = "1";
    el._linliMap = map;
  }

  function init(el) {
    if (el.dataset.ready || typeof L === "undefined") return;
    if (el.dataset.src) {
      fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) { draw(el, data); })
        .catch(function () { el.dataset.ready = "error"; });
    } else if (el.dataset.geojson) {
      var node = document.getElementById(el.dataset.geojson);
      draw(el, node ? JSON.parse(node.textContent) : { type: "FeatureCollection", features: [] });
    }
  }

  function initAll() { document.querySelectorAll(".map[data-src], .map[data-geojson]").forEach(init); }
  window.linliWgs84ToGcj02 = wgs84ToGcj02;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
})();
