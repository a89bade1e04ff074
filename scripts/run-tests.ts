// `npm test`: provisions the Temporal CLI first (with progress, so a first run that builds it is not
// silent), runs every vitest project, and ends with the line `N passed, N failed`.
// Extra arguments go to vitest: `npm test -- --project unit`.
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureTemporalCli } from './temporal-cli';

const resultsDir = join(process.cwd(), '.test-results');
const resultsFile = join(resultsDir, 'vitest.json');
/** `{passed, failed}`, what .ci/run adds its own checks to. */
const summaryFile = join(resultsDir, 'summary.json');

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  success: boolean;
}

async function main(): Promise<number> {
  const temporalCli = await ensureTemporalCli();
  await mkdir(resultsDir, { recursive: true });
  await rm(resultsFile, { force: true });
  await rm(summaryFile, { force: true });
  const args = [
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${resultsFile}`,
    ...process.argv.slice(2),
  ];
  const code = await new Promise<number>((resolve) => {
    const child = spawn('npx', args, {
      stdio: 'inherit',
      env: { ...process.env, TEMPORAL_CLI: temporalCli },
    });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  let counts: VitestJson | null = null;
  try {
    counts = JSON.parse(await readFile(resultsFile, 'utf8')) as VitestJson;
  } catch {
    console.error('vitest wrote no results (it failed before running tests; see above)');
  }
  const passed = counts?.numPassedTests ?? 0;
  // An error outside any test (a config error, an unhandled rejection) fails the run as one failure.
  const failed = (counts?.numFailedTests ?? 0) || (counts?.success && code === 0 ? 0 : 1);
  const skipped = (counts?.numPendingTests ?? 0) + (counts?.numTodoTests ?? 0);
  await writeFile(summaryFile, JSON.stringify({ passed, failed }));
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return failed > 0 ? code || 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
