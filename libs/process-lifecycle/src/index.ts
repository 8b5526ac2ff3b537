// Public entry of @weft/process-lifecycle: how each component's process starts and stops.
export * from './cleanup-stack';
export * from './line-writer';
export * from './listen';
export * from './run-component';
