// The single place @peculiar/x509 is loaded: reflect-metadata (tsyringe, inside @peculiar/x509, needs it) goes
// first and the crypto provider is set to Node's WebCrypto (DESIGN.md §8); every other file imports `x509` from here.

import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto);

export { x509 };

/** Node's WebCrypto, typed as Node declares it. */
export const subtle = webcrypto.subtle;
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** OIDs this library reads or writes. */
export const OID = {
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;
