// libs/xds public entry: proto⇄model adapters, the Delta ADS server and client, and the type URLs.
// Generated protobuf types stay inside this library (STYLE.md #3).
export * from './type-urls';
export * from './adapters';
export * from './ads';
export * from './certificate-service';
export * from './mesh-resources';
export * from './zds-codec';
export * from './mesh-batch';
export * from './call-headers';
export * from './controlplane-connection';
