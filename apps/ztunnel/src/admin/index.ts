// Admin endpoints' documents.
export * from './config-dump';
