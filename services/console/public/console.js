// Shared helpers for the console pages (no build step; plain browser JavaScript).

window.gs = {
  /** Text → HTML-safe text. Everything from the server's JSON goes through this before innerHTML. */
  esc(value) {
    return String(value ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
  },
  rate(value) {
    if (value === null || value === undefined) return '–';
    if (value >= 100) return value.toFixed(0);
    if (value >= 1) return value.toFixed(1);
    return value.toFixed(2);
  },
  bytes(n) {
    if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
    if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
    return `${(n / 1024).toFixed(1)} KiB`;
  },
  pageData() {
    const el = document.getElementById('page-data');
    return el ? JSON.parse(el.textContent) : null;
  },
};
