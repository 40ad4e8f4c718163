// Import job page: live progress over SSE. Shows only what the server reports; a failed job says so.

(() => {
  const { esc, bytes } = window.gs;
  const { id } = window.gs.pageData();
  const bar = document.getElementById('bar');
  const text = document.getElementById('progress-text');
  const state = document.getElementById('job-state');

  function show(job) {
    const p = job.progress;
    const pct =
      p.bytesTotal > 0
        ? Math.min(100, Math.floor((100 * p.bytesRead) / p.bytesTotal))
        : job.state === 'done'
          ? 100
          : 0;
    bar.style.width = `${pct}%`;
    bar.dataset.pct = String(pct);
    text.textContent = `${pct}% — rows read ${p.rowsRead}, sent ${p.rowsSent}, rejected ${p.rowsRejected}; ${bytes(p.bytesRead)} of ${bytes(p.bytesTotal)}`;
    text.dataset.rowsSent = String(p.rowsSent);
    state.textContent = job.state === 'failed' ? `FAILED: ${job.error}` : job.state;
    state.className = `state-${job.state}`;
    if (job.state !== 'running') showSummary(job);
  }

  function showSummary(job) {
    const s = job.summary;
    if (!s) return;
    const files = s.files
      .map(
        (f) =>
          `<tr><td>${esc(f.file)}</td><td>${f.rowsRead}</td><td>${f.rowsSent}</td><td>${f.rowsRejected}</td><td class="error">${esc(f.error || '')}</td></tr>`,
      )
      .join('');
    const rejects = s.rejects
      .map(
        (r) =>
          `<tr><td>${esc(r.file)}</td><td class="line">${esc(r.line)}</td><td><code>${esc(r.reason)}</code></td><td>${esc(r.detail)}</td></tr>`,
      )
      .join('');
    document.getElementById('summary').innerHTML = `<h2>Summary</h2>
<p id="summary-text">${s.rowsSent} row(s) sent in ${s.messagesSent} message(s), ${s.rowsRejected} rejected, ${(s.durationMs / 1000).toFixed(1)} s.</p>
<table><thead><tr><th>File</th><th>Read</th><th>Sent</th><th>Rejected</th><th>Error</th></tr></thead><tbody>${files}</tbody></table>
${s.rejectsTotal > 0 ? `<h3>Rejected rows${s.rejectsTotal > s.rejects.length ? ` (first ${s.rejects.length} of ${s.rejectsTotal})` : ''}</h3><table id="rejects"><thead><tr><th>File</th><th>Line</th><th>Reason</th><th>Detail</th></tr></thead><tbody>${rejects}</tbody></table>` : ''}`;
  }

  const source = new EventSource(`/api/import/jobs/${encodeURIComponent(id)}/events`);
  source.addEventListener('progress', (e) => show(JSON.parse(e.data)));
  source.addEventListener('end', (e) => {
    show(JSON.parse(e.data));
    source.close();
  });
  source.onerror = () => {
    // The stream broke (console restarted?): say so instead of leaving a bar that looks alive.
    if (source.readyState === EventSource.CLOSED && !/done|FAILED/.test(state.textContent))
      state.textContent = 'lost contact with the console; reload the page to see the job state';
  };
})();
