// Public entry of @weft/process-lifecycle: how each component's process starts and stops.
export * from './cleanup-stack';
export * from './listen';
export * from './run-component';
