// Herald (and baselines) as separate processes for the benchmarks, so that the load generator
// in the bench process does not steal the measured server's CPU. Every process started here is
// killed when the bench exits, whatever happens.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ServerProcess {
  url: string;
  pid: number;
  output: () => string;
  /** Resident set size now, in MB (from /proc). */
  rssMb(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts `node <script>` (a `.ts` script through the tsx loader) with `env` and resolves once a
 * line of its output matches `ready` (whose first group, if any, is the URL).
 */
export async function startNodeProcess(script: string, env: Record<string, string>, ready: RegExp, timeoutMs = 60_000, nodeArgs: string[] = []): Promise<ServerProcess> {
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...nodeArgs, ...loader, script], {
    cwd: repoRoot,
    // BENCH_NODE_OPTIONS reaches the measured processes as NODE_OPTIONS (e.g. a --require to count queries).
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      ...(process.env.BENCH_NODE_OPTIONS && { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready after ${timeoutMs} ms:\n${output.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] ?? '');
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${script} exited before it was ready:\n${output.slice(-2000)}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    output: () => output,
    async rssMb() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The server as `npm start` runs it: the shipped bundle (dist/herald.js), brought up to date with
 * src/ first, never TypeScript through the tsx loader (which would measure the loader too).
 */
export async function heraldBundle(): Promise<string> {
  const { buildServer, bundlePath } = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'build-server.mjs')).href)) as {
    buildServer(): Promise<boolean>;
    bundlePath: string;
  };
  await buildServer();
  return bundlePath;
}

/**
 * A Herald server process (the bundle) with the given environment; resolves when it listens.
 * `cpuProfileDir` profiles it (node --cpu-prof, written when it stops; Node 20 refuses that
 * flag in NODE_OPTIONS, so it goes on the command line).
 */
export async function startHeraldProcess(env: Record<string, string>, cpuProfileDir?: string): Promise<ServerProcess> {
  const nodeArgs = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  // BENCH_HTTP_WORKERS sets HTTP_WORKERS for every Herald the bench starts (to compare counts).
  const workers: Record<string, string> = process.env.BENCH_HTTP_WORKERS ? { HTTP_WORKERS: process.env.BENCH_HTTP_WORKERS } : {};
  return startNodeProcess(await heraldBundle(), { HOST: '127.0.0.1', PORT: '0', BOOTSTRAP_ADMIN_KEY: 'false', ...workers, ...env }, /Herald listening on (http:\/\/[^/\s]+)/, 60_000, nodeArgs);
}
