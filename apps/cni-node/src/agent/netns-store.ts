// The agent's memory of pod netns paths (`Pod/<ns>/<name>` → path), kept in its run directory so that after a
// restart it can still enroll or unenroll pods it learned about from earlier CNI ADDs. Written atomically.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

import type { NetnsStore } from './node-agent';

export function createFileNetnsStore(file: string): NetnsStore {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
        throw cause;
      }
      const parsed: unknown = JSON.parse(text);
      const entries = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['pods'] : undefined;
      const map = new Map<string, string>();
      if (typeof entries === 'object' && entries !== null) {
        for (const [key, value] of Object.entries(entries)) if (typeof value === 'string') map.set(key, value);
      }
      return map;
    },
    async save(entries) {
      await mkdir(path.dirname(file), { recursive: true });
      const temp = `${file}.tmp`;
      const pods = Object.fromEntries([...entries].sort(([a], [b]) => a.localeCompare(b)));
      await writeFile(temp, `${JSON.stringify({ pods }, null, 2)}\n`);
      await rename(temp, file);
    },
  };
}
