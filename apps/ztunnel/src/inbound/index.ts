// Inbound (15008 HBONE and 15006 plaintext) decisions and their wire statuses.
export * from './decision';
export * from './inbound-error';
