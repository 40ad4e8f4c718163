// Query page: a line chart of one numeric column over one time column of the result.

(() => {
  const data = window.gs.pageData();
  const el = document.getElementById('query-chart');
  if (!data || !el || typeof uPlot === 'undefined') return;
  const xSel = document.getElementById('chart-x');
  const ySel = document.getElementById('chart-y');
  let chart;

  function toSeconds(v) {
    if (v === null) return null;
    const asNumber = Number(v);
    if (Number.isFinite(asNumber) && !/[-:]/.test(v)) return asNumber > 1e11 ? asNumber / 1000 : asNumber;
    // Athena/DuckDB print `YYYY-MM-DD HH:MM:SS.mmm` in UTC.
    const ms = Date.parse(/Z$|[+-]\d\d:?\d\d$/.test(v) ? v.replace(' ', 'T') : `${v.replace(' ', 'T')}Z`);
    return Number.isNaN(ms) ? null : ms / 1000;
  }

  function draw() {
    const xi = data.columns.indexOf(xSel.value);
    const yi = data.columns.indexOf(ySel.value);
    const pts = data.rows
      .map((r) => [toSeconds(r[xi]), r[yi] === null ? null : Number(r[yi])])
      .filter(([x, y]) => x !== null && (y === null || Number.isFinite(y)))
      .sort((a, b) => a[0] - b[0]);
    chart?.destroy();
    el.textContent = '';
    if (pts.length === 0) {
      el.textContent = 'Nothing to plot: choose a time column and a numeric column.';
      return;
    }
    chart = new uPlot(
      {
        width: Math.max(400, el.clientWidth - 10),
        height: 280,
        series: [{}, { label: ySel.value, stroke: '#1f77b4', width: 1.5 }],
      },
      [pts.map((p) => p[0]), pts.map((p) => p[1])],
      el,
    );
  }
  xSel.addEventListener('change', draw);
  ySel.addEventListener('change', draw);
  draw();
})();
