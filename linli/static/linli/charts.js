/* Linli charts: a bar chart per <div class="chart" data-chart="id-of-json-script" data-series="label">.
 * The JSON is [{label, value}, …]; the same numbers are in a table next to the chart. */
(function () {
  "use strict";
  var charts = [];

  function init(el) {
    if (el.dataset.ready || typeof echarts === "undefined") return;
    var node = document.getElementById(el.dataset.chart);
    var rows = node ? JSON.parse(node.textContent) : [];
    var labels = rows.map(function (r) { return r.label; });
    var many = labels.length > 6;
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      aria: { enabled: true, label: { description: el.getAttribute("aria-label") || "" } },
      animation: false,
      grid: { left: 8, right: 12, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: labels, axisLabel: { interval: 0, rotate: many ? 40 : 0, fontSize: 11 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", name: el.dataset.series || "", data: rows.map(function (r) { return r.value; }),
                 itemStyle: { color: "#b3261e" }, barMaxWidth: 36 }]
    });
    // ECharts writes its own aria-label; keep the page's (it names the chart in the page language).
    el.dataset.ready = "1";
    charts.push(chart);
  }

  function initAll() { document.querySelectorAll(".chart[data-chart]").forEach(init); }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
})();
