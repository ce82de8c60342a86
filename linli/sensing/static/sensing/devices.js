/* Device charts (issue 13): ECharts line charts of a device's channels and the stacked bars of the
 * per-community counts. <div class="dchart" data-kind="line|bars" data-src="id-of-json-script">;
 * the numbers are also in a table beside each chart. No inline script (Content-Security-Policy). */
(function () {
  "use strict";
  var charts = [];

  function line(el, data) {
    var unit = data.unit || "";
    return {
      aria: { enabled: true, label: { description: el.getAttribute("aria-label") || "" } },
      animation: false,
      grid: { left: 8, right: 16, top: 28, bottom: 8, containLabel: true },
      legend: { show: data.lines.length > 1, top: 0 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "time" },
      yAxis: { type: "value", name: unit, scale: true },
      series: data.lines.map(function (l) {
        return { type: "line", name: l.name, data: l.data, showSymbol: l.data.length < 60, connectNulls: false };
      })
    };
  }

  function bars(el, data) {
    var many = data.labels.length > 6;
    return {
      aria: { enabled: true, label: { description: el.getAttribute("aria-label") || "" } },
      animation: false,
      grid: { left: 8, right: 12, top: 28, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: many ? 40 : 0, fontSize: 11 } },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (s) {
        return { type: "bar", stack: "all", name: s.name, data: s.data, itemStyle: { color: s.color }, barMaxWidth: 36 };
      })
    };
  }

  function init(el) {
    if (el.dataset.ready || typeof echarts === "undefined") return;
    var node = document.getElementById(el.dataset.src);
    if (!node) return;
    var data = JSON.parse(node.textContent);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(el.dataset.kind === "bars" ? bars(el, data) : line(el, data));
    el.dataset.ready = "1";
    charts.push(chart);
  }

  function initAll() { document.querySelectorAll(".dchart[data-src]").forEach(init); }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
})();
