import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `DATA_DIR=memory://` keeps nothing on disk: every start is a first start. */
export const isMemoryDir = (dataDir: string): boolean => dataDir.startsWith('memory://');

export interface Kept {
  value: string;
  /** True when this call made the value (first start of this data directory, or `memory://`). */
  created: boolean;
  /** Where it is kept; undefined for `memory://`. */
  path: string | undefined;
}

/**
 * A secret that belongs to one data directory: made by `make` on the first start, written
 * readable by its owner only (0600: the directory may sit in a shared home or checkout), and
 * read back by later starts so that tokens and passwords survive a restart.
 */
export function keptInDataDir(dataDir: string, name: string, make: () => string): Kept {
  if (isMemoryDir(dataDir)) return { value: make(), created: true, path: undefined };
  const path = join(dataDir, name);
  try {
    return { value: readFileSync(path, 'utf8').trim(), created: false, path };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true });
  const value = make();
  try {
    // `wx`: two processes starting on one fresh directory must not overwrite each other's value.
    writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { value: readFileSync(path, 'utf8').trim(), created: false, path };
  }
  return { value, created: true, path };
}
