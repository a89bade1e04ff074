export * from './cluster';
export * from './action';
export * from './managed';
export * from './operations';
export * from './pve-failures';
export * from './observation';
export * from './zones';
