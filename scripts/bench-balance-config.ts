// The config bench:balance runs the balance rule with, shared with the offline replay
// (scripts/replay-balance.ts) so the two measure the same rule. Why these settings: the header of
// scripts/bench-balance.ts.
import { parseConfig, type Config } from '../src/config';

/**
 * The balance rule alone, on used memory, 16 migrations at once and 2 per node, the plan at most
 * `maxMovesAhead` (4) moves ahead; cooldowns in simulated time at `speed` simulated s per wall s.
 */
export function benchBalanceConfig(speed: number, maxMovesAhead = 4): Config {
  const yaml = [
    'cluster: { name: fleet }',
    'scope: { vmidMin: 10000, vmidMax: 19999 }',
    'manager:',
    '  automation: auto',
    '  capacityBasis: used',
    '  maxConcurrent: 16',
    '  maxPerNode: 2',
    `  cooldownSeconds: ${60 / speed}`,
    'lab: { enabled: false }',
    'balance:',
    '  enabled: true',
    '  weights: { cpu: 0, memory: 1, disk: 0 }',
    '  threshold: 0.2',
    '  target: 0.13',
    '  holdRounds: 3',
    '  margin: 0.001',
    `  cooldownSeconds: ${3600 / speed}`,
    '  maxMovesPerRound: 16',
    `  maxMovesAhead: ${maxMovesAhead}`,
  ].join('\n');
  return parseConfig(yaml, {}, { source: 'bench-balance' });
}
