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
