// Pipeline page: polls /api/pipeline every 3 s and redraws; the chart reads the console's 1 h ring.

(() => {
  const { esc, rate } = window.gs;
  let chart;
  let chartKey = '';

  function renderServices(services) {
    const rows = services.map((s) => {
      const state = !s.up
        ? '<span class="badge fault">down</span>'
        : s.ready
          ? '<span class="badge ok">ready</span>'
          : `<span class="badge warning">not ready${s.state ? ` (${esc(s.state)})` : ''}</span>`;
      const failing = Object.entries(s.checks || {})
        .filter(([, c]) => !c.ok)
        .map(([n, c]) => `${esc(n)}: ${esc(c.detail || 'failing')}`);
      const details = [s.error ? esc(s.error) : '', ...failing].filter(Boolean).join('<br>');
      return `<tr data-service="${esc(s.name)}" class="${s.up ? 'up' : 'down'}"><td>${esc(s.name)}<br><small class="muted">${esc(s.url)}</small></td><td class="state">${state}</td><td class="in-rate">${rate(s.inRate)}</td><td class="out-rate">${rate(s.outRate)} <small class="muted">${esc(s.outUnit)}</small></td><td>${rate(s.deadLetterRate)}</td><td>${details}</td></tr>`;
    });
    document.querySelector('#services tbody').innerHTML = rows.join('');
  }

  function renderLag(groups) {
    const rows = [];
    for (const g of groups) {
      if (g.error) {
        rows.push(
          `<tr><td>${esc(g.service)}</td><td>${esc(g.group)}</td><td colspan="5" class="error">${esc(g.error)}</td></tr>`,
        );
        continue;
      }
      if (g.partitions.length === 0)
        rows.push(
          `<tr><td>${esc(g.service)}</td><td>${esc(g.group)}</td><td colspan="5" class="muted">no offsets</td></tr>`,
        );
      for (const p of g.partitions)
        rows.push(
          `<tr><td>${esc(g.service)}</td><td>${esc(g.group)}</td><td>${esc(p.topic)}</td><td>${esc(p.partition)}</td><td>${esc(p.committed)}</td><td>${esc(p.high)}</td><td class="${p.lag > 0 ? 'warn' : ''}">${esc(p.lag)}</td></tr>`,
        );
    }
    document.querySelector('#lag tbody').innerHTML = rows.join('');
  }

  function renderChart(history, services) {
    const el = document.getElementById('chart');
    const points = history.points;
    if (points.length === 0 || typeof uPlot === 'undefined') return;
    const names = Object.keys(points[points.length - 1].rates);
    // What each service is comes from its metrics (the console's rates.ts), not its name: every source
    // (gridstream_source_messages_total) and every sink (gridstream_sink_points_total) shows its output too.
    const kinds = new Map(services.map((s) => [s.name, s]));
    const series = [];
    for (const n of names) {
      series.push({ label: `${n} in/s`, pick: (p) => p.rates[n]?.in ?? null });
      const s = kinds.get(n);
      if (s && (s.kind === 'source' || s.kind === 'sink'))
        series.push({ label: `${n} ${s.outUnit}`, pick: (p) => p.rates[n]?.out ?? null });
    }
    const data = [points.map((p) => p.t), ...series.map((s) => points.map(s.pick))];
    const key = series.map((s) => s.label).join('|');
    const colors = [
      '#1f77b4',
      '#ff7f0e',
      '#2ca02c',
      '#d62728',
      '#9467bd',
      '#8c564b',
      '#e377c2',
      '#7f7f7f',
      '#bcbd22',
    ];
    if (!chart || key !== chartKey) {
      chart?.destroy();
      chartKey = key;
      chart = new uPlot(
        {
          width: Math.max(400, el.clientWidth - 10),
          height: 260,
          series: [
            {},
            ...series.map((s, i) => ({ label: s.label, stroke: colors[i % colors.length], width: 1.5 })),
          ],
          axes: [{}, { label: 'per second' }],
        },
        data,
        el,
      );
    } else chart.setData(data);
  }

  async function refresh() {
    try {
      const res = await fetch('/api/pipeline', { headers: { accept: 'application/json' } });
      if (res.status === 401) return location.assign('/login?next=/pipeline');
      const snap = await res.json();
      renderServices(snap.services);
      renderLag(snap.lag);
      document.getElementById('dlq-size').textContent =
        snap.dlq.size === null ? `? (${snap.dlq.error})` : String(snap.dlq.size);
      document.getElementById('dlq-topic').textContent = snap.dlq.topic;
      document.getElementById('replays').textContent = String(snap.replays);
      document.getElementById('alarms-box').innerHTML = snap.alarms.html; // escaped on the server
      document.getElementById('updated').textContent = new Date(snap.at).toLocaleTimeString();
      const history = await (await fetch('/api/pipeline/history')).json();
      renderChart(history, snap.services);
    } catch (error) {
      document.getElementById('updated').textContent = `failed (${error.message}); retrying`;
    }
  }
  refresh();
  setInterval(refresh, 3000);
})();
