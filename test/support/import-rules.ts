/**
 * The module boundary (docs/architecture.md §3 and §6), checked: code outside a module reaches it only
 * through its `index.ts` (tests and the bench also through its `testing.ts`), `src/platform/` imports no module,
 * and bench/ and scripts/ use src/ only through a module's index, the platform, the app, the
 * context and the config. Imports are read with TypeScript's own scanner (`ts.preProcessFile`):
 * static imports and re-exports, `import type`, `import()` and `require()` alike, never a match
 * inside a comment or a string.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import ts from 'typescript';

export interface SourceText {
  /** Repository-relative, `/`-separated. */
  readonly path: string;
  readonly text: string;
}

export interface ImportViolation {
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  /** Repository-relative path the specifier resolves to, as written (`.js`). */
  readonly target: string;
  readonly message: string;
}

/** The directories the rule covers and the file kinds read in them. */
export const checkedRoots = ['src', 'test', 'bench', 'scripts'] as const;
const sourceFile = /\.(?:[cm]?ts|[cm]?js)$/;

/**
 * Folders inside a module that are modules of their own (docs/architecture.md §3): code outside
 * such a folder, its parent module included, reaches it only through its own `index.ts`, and it
 * reaches its parent only through the parent's `index.ts`.
 */
export const subModules: readonly string[] = ['payments/sandbox'];

const moduleOf = (path: string): { name: string; rest: string } | undefined => {
  const sub = subModules.find((s) => path === `src/modules/${s}` || path.startsWith(`src/modules/${s}/`));
  if (sub) return { name: sub, rest: path.slice(`src/modules/${sub}/`.length) };
  const m = /^src\/modules\/([^/]+)(?:\/(.*))?$/.exec(path);
  return m ? { name: m[1]!, rest: m[2] ?? '' } : undefined;
};
const isEntry = (rest: string, names: readonly string[]) => rest === '' || names.some((n) => new RegExp(`^${n}(?:\\.[cm]?[jt]s)?$`).test(rest));
/** What bench/ and scripts/ may use of src/ besides a module's index: the platform and the composition root. */
const openToTools = /^src\/(?:platform\/.*|(?:app|context|config)(?:\.[cm]?[jt]s)?)$/;

/** Every violation in `files`; relative specifiers are resolved, packages are not this rule's business. */
export function checkImports(files: readonly SourceText[]): ImportViolation[] {
  const out: ImportViolation[] = [];
  for (const { path, text } of files) {
    const from = moduleOf(path);
    const zone = path.startsWith('src/platform/') ? 'platform' : path.split('/')[0];
    for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
      const specifier = ref.fileName;
      if (!specifier.startsWith('.')) continue;
      const target = posix.normalize(posix.join(posix.dirname(path), specifier));
      const line = text.slice(0, ref.pos).split('\n').length;
      const at = `${path}:${line} imports ${target}`;
      const to = moduleOf(target);
      let problem: string | undefined;
      if (zone === 'platform' && to) {
        problem = 'src/platform/ must not import a module (the kernel knows no business word)';
      } else if (to && to.name !== from?.name && !isEntry(to.rest, zone === 'test' || zone === 'bench' ? ['index', 'testing'] : ['index'])) {
        const allowed = zone === 'test' || zone === 'bench' ? 'index.ts (or testing.ts)' : 'index.ts';
        problem = `only src/modules/${to.name}/${allowed} is open to code outside the ${to.name} module`;
      } else if ((zone === 'bench' || zone === 'scripts') && target.startsWith('src/') && !to && !openToTools.test(target)) {
        problem = `${zone}/ uses src/ only through a module's index.ts, src/platform/, src/app, src/context and src/config`;
      }
      if (problem) out.push({ file: path, line, specifier, target, message: `${at}: ${problem}` });
    }
  }
  return out;
}

/** The repository's files under the checked roots (node_modules and dist never among them). */
export function readSources(repoRoot: string): SourceText[] {
  const files: SourceText[] = [];
  for (const root of checkedRoots) {
    for (const rel of readdirSync(posix.join(repoRoot, root), { recursive: true, encoding: 'utf8' })) {
      const path = posix.join(root, rel.split('\\').join('/'));
      if (!sourceFile.test(path) || path.includes('/node_modules/')) continue;
      files.push({ path, text: readFileSync(posix.join(repoRoot, path), 'utf8') });
    }
  }
  return files;
}
