// @peculiar/x509 registers its algorithms through tsyringe, which refuses to load unless `Reflect.getMetadata`
// exists (the `reflect-metadata` polyfill). The library's classes take no constructor parameters, so tsyringe only
// ever stores and reads a few keys; this installs exactly those three functions, once, and only when no real
// polyfill is present. It must be imported before `@peculiar/x509` (see x509.ts).

type MetadataKey = unknown;
type MetadataTarget = object;

interface MetadataReflect {
  getMetadata?: (key: MetadataKey, target: MetadataTarget) => unknown;
  getOwnMetadata?: (key: MetadataKey, target: MetadataTarget) => unknown;
  defineMetadata?: (key: MetadataKey, value: unknown, target: MetadataTarget) => void;
}

const reflect = Reflect as unknown as MetadataReflect;

if (typeof reflect.getMetadata !== 'function') {
  const store = new WeakMap<MetadataTarget, Map<MetadataKey, unknown>>();

  const ownTable = (target: MetadataTarget, create: boolean): Map<MetadataKey, unknown> | undefined => {
    let table = store.get(target);
    if (table === undefined && create) {
      table = new Map();
      store.set(target, table);
    }
    return table;
  };

  reflect.defineMetadata = (key, value, target) => {
    ownTable(target, true)?.set(key, value);
  };
  reflect.getOwnMetadata = (key, target) => ownTable(target, false)?.get(key);
  // Like reflect-metadata, a lookup walks the prototype chain.
  reflect.getMetadata = (key, target) => {
    let current: unknown = target;
    while (current !== null && (typeof current === 'object' || typeof current === 'function')) {
      const table = store.get(current as MetadataTarget);
      if (table?.has(key) === true) return table.get(key);
      current = Object.getPrototypeOf(current);
    }
    return undefined;
  };
}

export {};
