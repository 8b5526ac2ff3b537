// L4 authorization at the destination ztunnel and the re-evaluation of live connections on policy change.
export * from './authorizer';
export * from './connection-registry';
