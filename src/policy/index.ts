// Pure decisions of pve-autopilot, safe to import from Temporal workflow code: no I/O, no clock,
// no Math.random, only plain JSON in and out.

export * from './arrivals';
export * from './capacity';
export * from './decide';
export * from './eligibility';
export * from './format';
export * from './memory';
export * from './pick';
export * from './placement';
export * from './projection';
export * from './random';
export * from './rules';
export * from './admission';
export * from './validation';
export * from './decision-log';
export * from './format-action';
export * from './rule';
export * from './projected-cluster';
export * from './step';
export * from './rule-config';
export * from './affinity';
export * from './evacuation';
export * from './spread';
export * from './metrics';
