// Public entry of @weft/testing: fixtures for tests only — never imported by production (`src/`) code.
export * from './cni-runtime';
export * from './managed-processes';
export * from './mesh-builders';
export * from './netns-fixture';
export * from './seeded-random';
export * from './wait';
export * from './helm';
export * from './kube-structure';
