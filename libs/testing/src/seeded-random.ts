// Seeded randomness for tests that draw many cases, and a writer that cuts a message at seeded points: the same seed
// gives the same cases, so a failure reproduces on every run and machine.

/** mulberry32: uniform numbers in [0, 1) from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes latin1 `text` to `socket` a few bytes at a time (1–6, drawn from `random`), one piece per macrotask, so the
 * reader sees it cut at arbitrary points, as TCP and HBONE may cut it. Call `setNoDelay(true)` on a TCP socket first.
 */
export async function writeInPieces(socket: NodeJS.WritableStream, text: string, random: () => number): Promise<void> {
  for (let at = 0; at < text.length; ) {
    const size = 1 + Math.floor(random() * 6);
    socket.write(text.slice(at, at + size), 'latin1');
    at += size;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
