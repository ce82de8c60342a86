/* Command centre: the live map of open events (polled every data-poll seconds) and the
 * reported-vs-closed trend chart. The same numbers are in tables on the page. */
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_m, k) { return values[k] !== undefined ? values[k] : ""; });
  }

  function startMap(el) {
    if (typeof L === "undefined" || el.dataset.ready) return;
    var tiles = el.dataset.tiles || "";
    var gcj = tiles && el.dataset.crs === "gcj02" && window.linliWgs84ToGcj02;
    var map = L.map(el, { attributionControl: !!tiles, zoomSnap: 0.25, scrollWheelZoom: false });
    if (tiles) L.tileLayer(tiles, { attribution: el.dataset.attribution || "", maxZoom: 19 }).addTo(map);
    map.setView([29.56, 106.55], 12);
    var layer = L.layerGroup().addTo(map);
    var status = document.getElementById("map-status");
    var fitted = false;
    el.dataset.ready = "1";
    el._linliMap = map;
    if (el.dataset.alarms) startAlarms(el, map, layer, gcj);

    function draw(data) {
      layer.clearLayers();
      var bounds = [];
      (data.features || []).forEach(function (f) {
        var c = f.geometry.coordinates, p = f.properties || {};
        var ll = gcj ? window.linliWgs84ToGcj02(c[0], c[1]) : c;
        var marker = L.circleMarker([ll[1], ll[0]], {
          radius: p.overdue ? 7 : 5, color: p.overdue ? "#ff6f00" : p.color, weight: p.overdue ? 3 : 1,
          fillColor: p.color, fillOpacity: 0.85
        });
        var label = "#" + p.id + " " + (p.category || "") + " · " + (p.step || "") +
          (p.overdue ? " · " + el.dataset.overdue : "") + (p.escalation ? " · " + el.dataset.level + " " + p.escalation : "");
        marker.bindTooltip(label);
        marker.addTo(layer);
        bounds.push([ll[1], ll[0]]);
      });
      if (!fitted && bounds.length) { map.fitBounds(bounds, { padding: [12, 12], maxZoom: 17 }); fitted = true; }
      el.dataset.features = String((data.features || []).length);
      if (status && status.dataset.template) {
        status.textContent = fill(status.dataset.template, {
          drawn: data.drawn, total: data.total_open, rest: data.not_drawn, cap: data.cap,
          at: new Date(data.at).toLocaleTimeString()
        });
      }
    }

    function load() {
      fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(draw)
        .catch(function () { el.dataset.error = "1"; });
    }
    load();
    var every = parseInt(el.dataset.poll || "30", 10) * 1000;
    setInterval(function () { if (!document.hidden) load(); }, every);
  }

  /* The alarm layer (issue 13): open alarms of sensors and lifts as squares coloured by severity,
   * trapped passengers larger in a pane above everything; a layer control shows or hides events and
   * alarms; each marker's popup links to the alarm's page. Polled with the map. */
  function startAlarms(el, map, events, gcj) {
    map.createPane("alarms").style.zIndex = 640;
    map.createPane("trapped").style.zIndex = 660;
    var alarms = L.layerGroup().addTo(map);
    var control = {};
    control[el.dataset.lEvents] = events;
    control[el.dataset.lAlarms] = alarms;
    L.control.layers(null, control, { collapsed: false }).addTo(map);
    var status = document.getElementById("alarm-status");

    function popup(p) {
      var box = document.createElement("div");
      var title = document.createElement("strong");
      title.textContent = "#" + p.id + " " + p.type;
      box.appendChild(title);
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(p.severity + " · " + p.device + (p.acked ? " · " + el.dataset.lAcked : "")));
      box.appendChild(document.createElement("br"));
      var a = document.createElement("a");
      a.href = p.url;
      a.textContent = el.dataset.lOpen;
      box.appendChild(a);
      return box;
    }

    // rows: [id, lon, lat, type, severity, trapped, acknowledged, device code] (sensing/queries/alarms.py)
    function draw(data) {
      alarms.clearLayers();
      var types = data.types || {}, sevs = data.severities || {};
      (data.alarms || []).forEach(function (row) {
        var p = {
          id: row[0], type: types[row[3]] || row[3], sev: row[4], severity: sevs[row[4]] || row[4],
          trapped: !!row[5], acked: !!row[6], device: row[7], url: String(data.url).replace(/0\/$/, row[0] + "/")
        };
        var ll = gcj ? window.linliWgs84ToGcj02(row[1], row[2]) : [row[1], row[2]];
        var size = p.trapped ? 22 : 14;
        var label = "#" + p.id + " " + p.type + " · " + p.severity + (p.trapped ? " · " + el.dataset.lTrapped : "");
        var marker = L.marker([ll[1], ll[0]], {
          pane: p.trapped ? "trapped" : "alarms",
          title: label, alt: label, riseOnHover: true,
          icon: L.divIcon({ className: "alarm-icon sev-" + p.sev + (p.trapped ? " trapped" : ""), iconSize: [size, size] })
        });
        marker.bindPopup(function () { return popup(p); });
        marker.addTo(alarms);
      });
      el.dataset.alarmFeatures = String((data.alarms || []).length);
      if (status && status.dataset.template) {
        status.textContent = fill(status.dataset.template, { drawn: data.drawn, total: data.total_open });
      }
    }

    function load() {
      fetch(el.dataset.alarms, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(draw)
        .catch(function () { el.dataset.alarmError = "1"; });
    }
    load();
    var every = parseInt(el.dataset.poll || "30", 10) * 1000;
    setInterval(function () { if (!document.hidden) load(); }, every);
  }

  function startTrend(el) {
    if (typeof echarts === "undefined" || el.dataset.ready) return;
    var node = document.getElementById(el.dataset.trend);
    var rows = node ? JSON.parse(node.textContent) : [];
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      aria: { enabled: true, label: { description: (document.getElementById("trend-h") || {}).textContent || "" } },
      animation: false,
      legend: { top: 0 },
      grid: { left: 8, right: 12, top: 32, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: rows.map(function (r) { return r.label; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { type: "line", name: el.dataset.reported, data: rows.map(function (r) { return r.reported; }), itemStyle: { color: "#b3261e" } },
        { type: "line", name: el.dataset.closed, data: rows.map(function (r) { return r.closed; }), itemStyle: { color: "#1a56db" } }
      ]
    });
    el.dataset.ready = "1";
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function init() {
    var m = document.getElementById("dash-map");
    if (m) startMap(m);
    var t = document.getElementById("trend-chart");
    if (t) startTrend(t);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
