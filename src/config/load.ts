// Finds and reads the config file: --config, else PVE_AUTOPILOT_CONFIG, else ./pve-autopilot.yaml.
// Only the implicit default may be missing (it then means "all defaults").

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Env } from './env';
import { ConfigError } from './errors';
import { parseConfig } from './parse';
import type { Config } from './schema';

export const DEFAULT_CONFIG_FILE = 'pve-autopilot.yaml';
export const CONFIG_PATH_VARIABLE = 'PVE_AUTOPILOT_CONFIG';

export interface ConfigLocation {
  path: string;
  /** Named by the operator, so it must exist. */
  explicit: boolean;
  from: 'argument' | 'environment' | 'default';
}

export interface LoadOptions {
  /** From --config. */
  path?: string;
  env: Env;
  /** Base for relative paths; the process's working directory when omitted. */
  cwd?: string;
}

export function locateConfig(options: LoadOptions): ConfigLocation {
  const cwd = options.cwd ?? process.cwd();
  if (options.path !== undefined && options.path !== '') {
    return { path: resolve(cwd, options.path), explicit: true, from: 'argument' };
  }
  const fromEnv = options.env[CONFIG_PATH_VARIABLE];
  if (fromEnv !== undefined && fromEnv !== '') {
    return { path: resolve(cwd, fromEnv), explicit: true, from: 'environment' };
  }
  return { path: resolve(cwd, DEFAULT_CONFIG_FILE), explicit: false, from: 'default' };
}

export async function loadConfig(options: LoadOptions): Promise<Config> {
  const location = locateConfig(options);
  let text: string;
  try {
    text = await readFile(location.path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !location.explicit) return parseConfig('', options.env);
    const named = location.from === 'environment' ? ` (from ${CONFIG_PATH_VARIABLE})` : '';
    const why = code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? String(err)})`;
    throw new ConfigError([{ path: '', message: `config file ${location.path}${named}: ${why}` }]);
  }
  return parseConfig(text, options.env, { source: location.path });
}
