export * from './version';
export * from './errors';
export * from './spec';
export * from './weights';
export * from './messages';
export * from './api';
