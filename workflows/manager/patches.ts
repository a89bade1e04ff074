// Patch ids of the cluster manager, one per change of its commands, so histories recorded by older
// code replay on the code that made them (see legacy-v1.ts).

/** Set by every run of the decision-core manager; absent in runs of the lab-only manager. */
export const DECISION_CORE_PATCH = 'decision-core';
/** Makes a lab-only run that goes on under new code continue as new at its next loop turn. */
export const HAND_OVER_PATCH = 'decision-core-hand-over';
