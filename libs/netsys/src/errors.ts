// Typed errors: NetsysError for a failed system call (errno + the call's name), InvalidOptionError for a bad
// argument caught before any system call is made.
import { constants } from 'node:os';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** The symbolic name of an errno value ('EPERM' for 1), or `E<number>` when Node does not know it. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** The errno value for a symbolic name, e.g. errnoValue('EBADF') === 9. */
export function errnoValue(code: keyof typeof constants.errno): number {
  return constants.errno[code];
}

/** Hints for the errors an operator can fix, keyed by `${syscall}:${code}` or by code. */
const hints: Record<string, string> = {
  'setns:EPERM': 'entering another network namespace needs CAP_SYS_ADMIN',
  'setsockopt:EPERM': 'SO_MARK and IP_TRANSPARENT need CAP_NET_ADMIN (or CAP_NET_RAW)',
  'bind:EADDRNOTAVAIL': 'the address is not local in that namespace; set transparent or freebind to bind it anyway',
  'getsockopt:ENOENT': 'no conntrack entry: the connection was not redirected by iptables/nftables',
};

/** A system call failed. `code` is the errno name ('EPERM'), `syscall` the call ('setns', 'bind'). */
export class NetsysError extends Error {
  readonly code: string;

  constructor(
    readonly errno: number,
    readonly syscall: string,
    detail?: string,
  ) {
    const code = errnoName(errno);
    const hint = hints[`${syscall}:${code}`];
    super(`${syscall} failed: ${code}${detail ? ` (${detail})` : ''}${hint ? ` — ${hint}` : ''}`);
    this.name = 'NetsysError';
    this.code = code;
  }
}

/** An option or argument was rejected before any system call; `field` names it. */
export class InvalidOptionError extends TypeError {
  readonly code = 'ERR_NETSYS_INVALID_OPTION';
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`invalid ${field}: ${reason}`);
    this.name = 'InvalidOptionError';
  }
}

function hasErrno(err: unknown): err is { errno: number; syscall: string } {
  // Not `instanceof Error`: the addon creates errors in Node's main realm, which differs from a jest/vm realm.
  return (
    typeof err === 'object' &&
    err !== null &&
    'errno' in err &&
    typeof err.errno === 'number' &&
    'syscall' in err &&
    typeof err.syscall === 'string'
  );
}

/** Runs a native call, turning its errno-carrying errors into NetsysError; anything else passes through. */
export function callNative<T>(fn: () => T, detail?: string): T {
  try {
    return fn();
  } catch (err: unknown) {
    if (hasErrno(err)) throw new NetsysError(err.errno, err.syscall, detail);
    throw err;
  }
}
