// The production-shape tests restart the Temporal server and PostgreSQL of the stack that
// scripts/test-prod.ts runs, through the small control endpoint it serves.
export function controlUrl(): string {
  const url = process.env.PROD_STACK_CONTROL_URL;
  if (!url) {
    throw new Error('PROD_STACK_CONTROL_URL is not set: run these tests with `npm run test:prod`');
  }
  return url;
}

async function post(path: string): Promise<void> {
  const res = await fetch(`${controlUrl()}${path}`, { method: 'POST', signal: AbortSignal.timeout(180_000) });
  if (!res.ok) throw new Error(`stack control ${path}: ${res.status} ${await res.text()}`);
}

/** SIGTERM the Temporal server process and start it again; resolves once it is healthy. */
export const restartTemporalServer = () => post('/restart/temporal');

/** Stop PostgreSQL (fast shutdown), keep it down `downMs`, and start it again. */
export const restartPostgres = (downMs = 3000) => post(`/restart/postgres?downMs=${downMs}`);
