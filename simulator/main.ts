// `npm run sim -- --scenario NAME [--port N] [--http] ...`: runs pve-sim in the foreground and prints
// how to reach it (URL, token, certificate fingerprint, CA file, a curl line).
import { parseArgs } from 'node:util';
import { startSimulator, type SimOptions } from './index.js';
import { scenarioNames } from './scenarios/index.js';

const USAGE = `usage: npm run sim -- --scenario NAME [options]
  --scenario NAME     ${scenarioNames().join(' | ')}
  --port N            listen port (default 8006, 0 = any free port)
  --host ADDR         listen address (default 127.0.0.1)
  --http              plain HTTP instead of HTTPS
  --seed N            random seed (default 1)
  --speed X           simulated seconds per wall second (default 1)
  --manual            manual clock: time moves only via POST /_sim/clock/advance
  --data-dir DIR      certificate directory (default .data/pve-sim)
  --state-file FILE   keep the cluster across restarts in FILE`;

function die(message: string): never {
  console.error(`pve-sim: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function integer(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    die(`--${name}: expected an integer ${min}..${max}, got '${v}'`);
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      scenario: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      http: { type: 'boolean' },
      seed: { type: 'string' },
      speed: { type: 'string' },
      manual: { type: 'boolean' },
      'data-dir': { type: 'string' },
      'state-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (err) {
  die((err as Error).message);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!args.scenario) die('--scenario is required');
if (!scenarioNames().includes(args.scenario))
  die(`--scenario: unknown scenario '${args.scenario}' (expected one of: ${scenarioNames().join(', ')})`);
const speed = args.speed === undefined ? 1 : Number(args.speed);
if (!(speed > 0) || !Number.isFinite(speed)) die(`--speed: expected a number > 0, got '${args.speed}'`);
if (args.manual && args.speed !== undefined) die('--manual and --speed exclude each other');

const opts: SimOptions = {
  scenario: args.scenario,
  seed: integer('seed', args.seed, 0, 2 ** 31 - 1) ?? 1,
  port: integer('port', args.port, 0, 65535) ?? 8006,
  host: args.host ?? '127.0.0.1',
  http: args.http ?? false,
  clock: args.manual ? { mode: 'manual' } : { mode: 'realtime', speed },
  dataDir: args['data-dir'],
  stateFile: args['state-file'],
  quiet: true,
};

const sim = await startSimulator(opts).catch((err: unknown) => die((err as Error).message));
const auth = `PVEAPIToken=${sim.token.id}=${sim.token.secret}`;
const tlsFlag = sim.schema === 'https' ? `--cacert ${sim.caFile} ` : '';
console.log(`pve-sim ${opts.scenario} (seed ${opts.seed}, ${opts.clock?.mode === 'manual' ? 'manual clock' : `speed ${speed}`})
  URL          ${sim.url}/api2/json
  API token    ${auth}
  login        ${sim.user.username} / ${sim.user.password}
  fingerprint  ${sim.fingerprint}
  CA file      ${sim.caFile}
  admin API    ${sim.url}/_sim/state

  curl ${tlsFlag}-H '${'Authorization: ' + auth}' ${sim.url}/api2/json/nodes
`);

const shutdown = (): void => {
  void sim.stop().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
