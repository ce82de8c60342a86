/* Linli: the support-rate line chart (the 23 % → 100 % curve) for
 * <div class="chart" data-line="id-of-json-script">; the JSON is {days: [...], support: [...], label}.
 * The same numbers are in a table next to the chart. Works again after an htmx swap. */
(function () {
  "use strict";
  var charts = [];

  function init(el) {
    if (el.dataset.ready || typeof echarts === "undefined") return;
    var node = document.getElementById(el.dataset.line);
    if (!node) return;
    var data = JSON.parse(node.textContent);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      aria: { enabled: true, label: { description: el.getAttribute("aria-label") || "" } },
      animation: false,
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
      xAxis: { type: "category", data: data.days, boundaryGap: false, axisLabel: { fontSize: 11 } },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: [{ type: "line", name: data.label || "", data: data.support, step: "end", symbol: "none",
                 lineStyle: { color: "#1f7a3a", width: 2 }, areaStyle: { color: "rgba(31,122,58,.12)" },
                 markLine: { silent: true, symbol: "none", lineStyle: { color: "#5b6475", type: "dashed" },
                             data: [{ yAxis: 100 }] } }]
    });
    el.dataset.ready = "1";
    charts.push(chart);
  }

  function initAll() { document.querySelectorAll(".chart[data-line]").forEach(init); }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.addEventListener("htmx:afterSettle", initAll);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
})();
