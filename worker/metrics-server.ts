// Serves GET /metrics on the worker's metrics address: the orchestrator's families (prom-client)
// followed by the Temporal SDK's own, which its Prometheus exporter serves on a loopback port of its
// own that this server reads at each scrape. One address per worker, as before, with both sets.
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { ConfigError } from '../src/config';
import type { OrchestratorMetrics } from '../src/metrics/orchestrator-metrics';

export interface MetricsServerDeps {
  metrics: OrchestratorMetrics;
  /** Brings the gauges up to date before they are shown (reads Temporal). */
  refresh: () => Promise<void>;
  /** Where the SDK's exporter listens, e.g. http://127.0.0.1:40123/metrics; none: ours only. */
  sdkMetricsUrl?: string;
  /** Longest wait for the refresh and for the SDK's text, so a scrape always gets an answer. */
  timeoutMs?: number;
}

export interface MetricsAddress {
  host: string;
  port: number;
}

/** `host:port` (IPv6 in brackets); a ConfigError naming METRICS_ADDRESS otherwise. */
export function parseMetricsAddress(text: string): MetricsAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new ConfigError([
      { path: 'METRICS_ADDRESS', message: `expected host:port (e.g. 127.0.0.1:9464) or off, got '${text}'` },
    ]);
  }
  return { host: (m[1] ?? m[2]) as string, port };
}

/** A free loopback port for the SDK's exporter, which only this process reads. */
export async function freeLoopbackPort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export async function metricsText(deps: MetricsServerDeps): Promise<string> {
  const timeoutMs = deps.timeoutMs ?? 5000;
  const sdk = deps.sdkMetricsUrl
    ? withTimeout(
        fetch(deps.sdkMetricsUrl).then((r) => r.text()),
        timeoutMs,
        'the SDK metrics',
      ).catch((err: unknown) => `# Temporal SDK metrics unavailable: ${(err as Error).message}\n`)
    : Promise.resolve('');
  // A refresh that fails or is slow leaves the gauges as the reader left them (cleared on errors).
  await withTimeout(deps.refresh(), timeoutMs, 'reading Temporal').catch(() => undefined);
  const ours = await deps.metrics.text();
  return `${ours}\n${await sdk}`;
}

export async function startMetricsServer(address: MetricsAddress, deps: MetricsServerDeps): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at GET /metrics\n');
      return;
    }
    metricsText(deps).then(
      (text) => res.writeHead(200, { 'content-type': deps.metrics.contentType }).end(text),
      (err: unknown) =>
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, resolve);
  });
  return server;
}
