// `npm test`: provisions the Temporal CLI first (with progress, so a first run that builds it is not
// silent), runs every vitest project, and ends with the line `N passed, N failed`.
// Extra arguments go to vitest: `npm test -- --project unit`.
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureTemporalCli } from './temporal-cli';

const resultsDir = join(process.cwd(), '.test-results');
const resultsFile = join(resultsDir, 'vitest.json');

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

async function main(): Promise<number> {
  const temporalCli = await ensureTemporalCli();
  await mkdir(resultsDir, { recursive: true });
  await rm(resultsFile, { force: true });
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
  let counts: VitestJson;
  try {
    counts = JSON.parse(await readFile(resultsFile, 'utf8')) as VitestJson;
  } catch {
    console.log('0 passed, 1 failed');
    console.error('vitest wrote no results (it failed before running tests; see above)');
    return code || 1;
  }
  const skipped = counts.numPendingTests + counts.numTodoTests;
  console.log(
    `${counts.numPassedTests} passed, ${counts.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`,
  );
  return counts.numFailedTests > 0 ? code || 1 : code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
