// `npm run test:prod`: brings up the production-shaped Temporal (PostgreSQL + the self-hosted server,
// no workers: each test runs its own) and runs vitest.prod.config.ts against it through
// TEMPORAL_TEST_ADDRESS. The tests restart the server and PostgreSQL through a control endpoint
// served here, by the process that owns them. Ends with `N passed, N failed` like `npm test`.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startProdStack, type ProdStack } from './lib/prod-stack';

const say = (line: string) => process.stdout.write(`[test:prod] ${line}\n`);

function port(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65_535)
    throw new Error(`--${name}: expected a port, got "${value}"`);
  return n;
}

function serveControl(stack: ProdStack): Promise<{ url: string; close(): void }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://control');
    const act =
      req.method !== 'POST'
        ? null
        : url.pathname === '/restart/temporal'
          ? () => stack.restartTemporal()
          : url.pathname === '/restart/postgres'
            ? () => stack.restartPostgres(Number(url.searchParams.get('downMs') ?? 3000))
            : null;
    if (!act) {
      res.writeHead(404).end('unknown control');
      return;
    }
    say(`control: ${url.pathname}`);
    act().then(
      () => res.writeHead(204).end(),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => server.close(),
      }),
    ),
  );
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      'temporal-port': { type: 'string', default: process.env.TEST_PROD_TEMPORAL_PORT ?? '7433' },
      'membership-port': { type: 'string', default: process.env.TEST_PROD_MEMBERSHIP_PORT ?? '7133' },
      'pg-port': { type: 'string', default: process.env.TEST_PROD_PG_PORT ?? '5434' },
      'data-dir': { type: 'string', default: '.data-prod-test' },
    },
    allowPositionals: true,
    strict: true,
  });
  const stack = await startProdStack({
    dataDir: values['data-dir'],
    temporalPort: port('temporal-port', values['temporal-port']),
    membershipPort: port('membership-port', values['membership-port']),
    pgPort: port('pg-port', values['pg-port']),
    metricsPort: 0,
    simPort: 0,
    clusters: 0,
    simScenario: 'lab-2node',
    simSpeed: 1,
    workers: 0,
    log: say,
  });
  const control = await serveControl(stack);
  say(`Temporal on ${stack.address} (PostgreSQL 127.0.0.1:${stack.pg.port}); running vitest.prod.config.ts`);
  const resultsDir = join(process.cwd(), '.test-results');
  const resultsFile = join(resultsDir, 'vitest-prod.json');
  await mkdir(resultsDir, { recursive: true });
  await rm(resultsFile, { force: true });
  try {
    const code = await new Promise<number>((resolve) => {
      const child = spawn(
        'npx',
        [
          'vitest',
          'run',
          '--config',
          'vitest.prod.config.ts',
          '--reporter=default',
          '--reporter=json',
          `--outputFile.json=${resultsFile}`,
          ...positionals,
        ],
        {
          stdio: 'inherit',
          env: { ...process.env, TEMPORAL_TEST_ADDRESS: stack.address, PROD_STACK_CONTROL_URL: control.url },
        },
      );
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
    });
    const counts = await readFile(resultsFile, 'utf8')
      .then((t) => JSON.parse(t) as { numPassedTests: number; numFailedTests: number; success: boolean })
      .catch(() => null);
    const passed = counts?.numPassedTests ?? 0;
    const failed = (counts?.numFailedTests ?? 0) || (counts?.success && code === 0 ? 0 : 1);
    console.log(`${passed} passed, ${failed} failed`);
    return failed > 0 ? code || 1 : 0;
  } finally {
    control.close();
    say('stopping the Temporal server and PostgreSQL (data is kept)');
    await stack.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
