/**
 * Real `mos` processes for the integration tests: the CLI as an operator runs it, one Node
 * process per command (`node --import tsx`, no wrapper), so the pid a test signals or kills is
 * the one that serves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface MosProcess {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr together. */
  output(): string;
}

const running = new Set<ChildProcess>();

/**
 * SIGKILLs every `mos` process a test started and that still runs: a test whose expectation
 * failed before its own kill must not leave a server running (and holding its port and data)
 * after the file. Also done when the test process exits.
 */
export async function killLeftovers(): Promise<void> {
  const left = [...running];
  running.clear();
  for (const child of left) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(left.map(exited));
}
process.once('exit', () => void killLeftovers()); // the kills are synchronous; nothing waits at exit

/** Starts `mos <args>` with only PATH, HOME and `env` in its environment. */
export function startMos(args: string[], env: Record<string, string>): MosProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

/** Its exit code once it has ended (null if a signal ended it). */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** Runs `mos <args>` to its end. */
export async function runMos(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const proc = startMos(args, env);
  const code = await exited(proc.child);
  return { code, output: proc.output() };
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
