/**
 * A server measured in a process of its own, as it is deployed: `node --import tsx <script>
 * <args…>` on a free port of 127.0.0.1, its output kept (the tail, to say why it failed), stopped
 * and waited for by `stop()` — which bench/lib.ts's cleanup also runs on a failure or Ctrl-C; the
 * process's `exit` handler SIGKILLs it on a second Ctrl-C, so that no server outlives the bench.
 *
 * Why a process of its own: a server inside the bench's process shares its heap with everything
 * the bench made to set a run up (the seat ids of 300,000-seat showtimes, the buyers' plans, the
 * in-process app that created them: about a gigabyte in a hot-path run), and the garbage
 * collector's pauses over that heap land on the measured requests' latency.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort, registerCleanup } from './lib.js';

const root = fileURLToPath(new URL('..', import.meta.url));
/** What a process printed last: enough to say why it failed, never a whole run's log. */
const OUTPUT_TAIL = 16_384;

export interface ServerProcess {
  pid: number;
  /** http://127.0.0.1:<port> */
  base: string;
  /** The last output, to say why it failed. */
  tail(): string;
  /** SIGTERM (a profile is written at a clean exit), SIGKILL after 10 s, and wait for the exit (once; later calls wait for the same). */
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  /** A name for messages (e.g. "MOS api"). */
  name: string;
  /** Script relative to the repository's root, and its arguments: `src/main.ts api`. */
  script: string;
  args?: string[];
  /** The whole environment of the process (PATH and HOME are added); PORT is set here. */
  env: Record<string, string>;
  /** A path that answers 2xx once the server serves. */
  readyPath: string;
}

/**
 * The runtime flags of the image (the Dockerfile's `ENV NODE_OPTIONS=`), so that MOS runs as it
 * is deployed; the floors get the same, so that a ratio compares code, not runtimes.
 */
export const imageNodeFlags = (): string[] => {
  const line = readFileSync(join(root, 'Dockerfile'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('ENV NODE_OPTIONS='));
  return line ? line.slice('ENV NODE_OPTIONS='.length).replaceAll('"', '').split(' ').filter(Boolean) : [];
};
/** BENCH_SERVER_NODE_FLAGS: more Node flags for every server process (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), to profile or try a runtime setting. */
const nodeFlags = [...imageNodeFlags(), ...(process.env.BENCH_SERVER_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];
/** BENCH_SERVER_OUTPUT: a directory where each server process's whole output goes (`<name>-<pid>.log`), e.g. with `--trace-gc`. */
const outputDir = process.env.BENCH_SERVER_OUTPUT;

export async function startServerProcess(o: ServerProcessOptions): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', o.script, ...(o.args ?? [])], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...o.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = keepTail(child);
  if (outputDir) {
    const file = createWriteStream(join(outputDir, `${o.name.replace(/\W+/g, '-')}-${child.pid}.log`));
    child.stdout!.pipe(file);
    child.stderr!.pipe(file);
  }
  const kill = () => {
    if (running(child)) child.kill('SIGKILL');
  };
  process.on('exit', kill);
  const stop = registerCleanup(async () => {
    if (running(child)) child.kill('SIGTERM');
    const killer = setTimeout(kill, 10_000);
    await exited(child);
    clearTimeout(killer);
    process.off('exit', kill);
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (!running(child)) throw new Error(`${o.name} exited while starting:\n${tail()}`);
      try {
        const res = await fetch(`${base}${o.readyPath}`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${o.name} did not start within 60 s:\n${tail()}`);
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: child.pid!, base, tail, stop };
}

/** Keeps what a child process prints, its last OUTPUT_TAIL characters: what to show when it fails. */
export function keepTail(child: ChildProcess): () => string {
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 2 * OUTPUT_TAIL) out = out.slice(-OUTPUT_TAIL);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return () => out.slice(-OUTPUT_TAIL);
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (!running(child)) resolve();
    else child.once('exit', () => resolve());
  });
}
