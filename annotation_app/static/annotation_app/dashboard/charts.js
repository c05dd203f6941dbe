// Draws every <canvas data-chart="ID"> from the Chart.js configuration in <script id="ID">.
(function () {
  "use strict";
  function draw() {
    if (typeof Chart === "undefined") { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) { return; }
      var chart = new Chart(canvas, JSON.parse(source.textContent));
      canvas.dataset.drawn = String(chart.data.datasets.length);
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
