#!/usr/bin/env node
// Launcher of the pve-autopilot command: runs src/cli/main.ts through tsx in a child Node process,
// passing the arguments, the terminal and the exit code (or the signal) through.
import { spawn } from 'node:child_process';
import { fileURLToPath, URL } from 'node:url';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
// Resolved from this file, not the working directory, so the command works from anywhere.
const tsx = import.meta.resolve('tsx');
const child = spawn(process.execPath, ['--import', tsx, main, ...process.argv.slice(2)], {
  stdio: 'inherit',
});

// Ctrl-C reaches the child through the terminal's process group; the launcher just waits for it.
const ignore = () => {};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, ignore);

child.on('error', (err) => {
  console.error(`pve-autopilot: cannot start ${process.execPath}: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal !== null) {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(s, ignore);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
