// Docker HEALTHCHECK for a gridstream service image: exit 0 when /healthz/ready answers 200, 1 otherwise.
// Plain JavaScript run by node itself (no curl or wget in the image, no build step for one request).
// It asks the port the service really listens on (HEALTH_PORT, set per service in the Dockerfile and
// overridable at run time) on loopback, because HEALTH_HOST=0.0.0.0 is a bind address, not a destination.
const port = process.env.HEALTH_PORT;
const bindHost = process.env.HEALTH_HOST ?? '';
const host = ['', '0.0.0.0', '::', '[::]'].includes(bindHost) ? '127.0.0.1' : bindHost;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz/ready`;

if (!port) {
  console.error('healthcheck: HEALTH_PORT is not set');
  process.exit(1);
}

try {
  // Below Docker's --timeout, so a hung server is reported by us with a reason rather than killed silently.
  const response = await fetch(url, { signal: AbortSignal.timeout(4_000) });
  if (response.ok) process.exit(0);
  // The readiness report names the failing check (e.g. kafka disconnected); Docker keeps it in `inspect`.
  console.error(`healthcheck: ${url} -> ${response.status} ${(await response.text()).slice(0, 500)}`);
} catch (error) {
  console.error(`healthcheck: ${url} -> ${error instanceof Error ? error.message : String(error)}`);
}
process.exit(1);
