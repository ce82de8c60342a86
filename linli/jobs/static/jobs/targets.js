/* Employment targets (issue 14 §7): one cumulative trend chart per figure — the running total of
 * the year against the even pace to the target. The numbers are in the table under each chart. */
(function () {
  "use strict";
  var charts = [];

  function draw(el) {
    if (typeof echarts === "undefined" || el.dataset.ready) return;
    var node = document.getElementById(el.dataset.trend);
    var data = node ? JSON.parse(node.textContent) : { labels: [], actual: [], line: [] };
    var title = document.getElementById(el.id + "-h");
    var series = [
      { type: "line", name: el.dataset.actual, data: data.actual, connectNulls: false, symbolSize: 6,
        itemStyle: { color: "#1a56db" }, lineStyle: { width: 3 } }
    ];
    if (data.target) {
      series.push({ type: "line", name: el.dataset.line, data: data.line, symbol: "none",
                    itemStyle: { color: "#8a6d00" }, lineStyle: { type: "dashed", width: 2 } });
    }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      aria: { enabled: true, label: { description: title ? title.textContent : "" } },
      animation: false,
      legend: { top: 0 },
      grid: { left: 8, right: 12, top: 36, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.labels, axisLabel: { fontSize: 11 } },
      yAxis: { type: "value", minInterval: 1 },
      series: series
    });
    // ECharts sets its own aria-label; the chart keeps the page's name (aria-labelledby).
    el.removeAttribute("aria-label");
    el.dataset.ready = "1";
    charts.push(chart);
  }

  function init() { document.querySelectorAll(".chart[data-trend]").forEach(draw); }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
