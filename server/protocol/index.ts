export * from './version';
export * from './errors';
export * from './spec';
export * from './spec-diff';
export * from './weights';
export * from './codec';
export * from './messages';
export * from './api';
