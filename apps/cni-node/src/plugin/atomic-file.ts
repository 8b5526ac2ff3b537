// Writes into directories the container runtime reads while we write: each file goes to a temp name beside it and
// is renamed over the old one, so a reader (or a runtime executing the old binary) sees the old file or the new one,
// never half of either. A file that already holds the content is left alone, so an agent restart rewrites nothing.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

/** The file's mode bits and size, or undefined when it does not exist. */
async function modeOf(file: string): Promise<{ readonly mode: number; readonly size: number } | undefined> {
  try {
    const info = await stat(file);
    return { mode: info.mode & 0o7777, size: info.size };
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw cause;
  }
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function tempFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.weft-tmp`);
}

async function replace(file: string, mode: number, fill: (temp: string) => Promise<void>): Promise<void> {
  const temp = tempFor(file);
  try {
    await fill(temp);
    await chmod(temp, mode);
    await rename(temp, file);
  } catch (cause) {
    await rm(temp, { force: true });
    throw cause;
  }
}

/** Puts `content` at `file` with `mode`; true when the file was (re)written, false when it already matched. */
export async function writeAtomically(file: string, content: string, mode: number): Promise<boolean> {
  const current = await modeOf(file);
  if (current !== undefined && current.size === Buffer.byteLength(content) && (await readFile(file, 'utf8')) === content) {
    if (current.mode !== mode) await chmod(file, mode);
    return false;
  }
  await replace(file, mode, (temp) => writeFile(temp, content, { mode }));
  return true;
}

/** Copies `source` to `file` with `mode`; true when copied, false when `file` already has the same size and SHA-256. */
export async function copyAtomically(source: string, file: string, mode: number): Promise<boolean> {
  const [from, current] = await Promise.all([stat(source), modeOf(file)]);
  if (current !== undefined && current.size === from.size) {
    const [want, have] = await Promise.all([sha256(source), sha256(file)]);
    if (want === have) {
      if (current.mode !== mode) await chmod(file, mode);
      return false;
    }
  }
  await replace(file, mode, (temp) => copyFile(source, temp));
  return true;
}
