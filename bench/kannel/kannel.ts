// Kannel as the benchmark's peer: finds (or installs) the Debian packages, writes a
// bearerbox + smsbox configuration into a throwaway directory, starts bearerbox, fakesmsc
// (kannel-extras) and smsbox on free ports, and stops all of them again.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, constants, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSecondsOf } from '../lib/proc-cpu.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface KannelInstall {
  bearerbox: string;
  smsbox: string;
  fakesmsc: string;
  /** Debian package version, e.g. 1.4.5-12. */
  version: string;
  /** True when this run installed the packages. */
  installed: boolean;
}

function run(file: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, env, maxBuffer: 16 * 2 ** 20 }, (error, stdout, stderr) => {
      resolve({ ok: !error, stdout: String(stdout), stderr: error && !stderr ? error.message : String(stderr) });
    });
  });
}

const executable = (file: string) => access(file, constants.X_OK).then(() => true, () => false);

async function locate(): Promise<Omit<KannelInstall, 'installed'> | string> {
  const version = await run('dpkg-query', ['-W', '-f=${Version}', 'kannel'], 10_000);
  if (!version.ok || !version.stdout.trim()) return 'package kannel is not installed';
  const files = await run('dpkg', ['-L', 'kannel-extras'], 10_000);
  if (!files.ok) return 'package kannel-extras is not installed';
  const fakesmsc = files.stdout.split('\n').find((line) => line.endsWith('/fakesmsc'));
  if (!fakesmsc || !(await executable(fakesmsc))) return 'kannel-extras has no fakesmsc binary';
  const [bearerbox, smsbox] = ['/usr/sbin/bearerbox', '/usr/sbin/smsbox'];
  if (!(await executable(bearerbox)) || !(await executable(smsbox))) return 'bearerbox/smsbox missing from /usr/sbin';
  return { bearerbox, smsbox, fakesmsc, version: version.stdout.trim() };
}

/** Finds Kannel; installs `kannel kannel-extras` with apt-get when missing. A string says why it cannot. */
export async function ensureKannel(log: (line: string) => void): Promise<KannelInstall | string> {
  const found = await locate();
  if (typeof found !== 'string') return { ...found, installed: false };
  if (process.platform !== 'linux') return `Kannel not installed (${found}) and this is not a Debian machine`;
  if (!(await executable('/usr/bin/apt-get'))) return `Kannel not installed (${found}) and apt-get is not available`;
  if (process.getuid?.() !== 0) return `Kannel not installed (${found}); installing needs root: apt-get install kannel kannel-extras`;
  log(`Kannel missing (${found}): apt-get install -y kannel kannel-extras`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'kannel', 'kannel-extras'], 240_000, env);
  let result = await install();
  if (!result.ok) {
    log('apt-get install failed; apt-get update and one retry');
    await run('apt-get', ['update', '-q'], 180_000, env);
    result = await install();
  }
  if (!result.ok) {
    const reason = result.stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? 'unknown error';
    return `apt-get install kannel kannel-extras failed: ${reason}`;
  }
  const after = await locate();
  return typeof after === 'string' ? `installed, but ${after}` : { ...after, installed: true };
}

/** `count` distinct free TCP ports on 127.0.0.1 (held open together, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<net.Server>((resolve, reject) => {
        const server = net.createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export interface KannelPorts {
  admin: number;
  smsbox: number;
  fake: number;
  sendsms: number;
}

export interface RunningKannel {
  dir: string;
  ports: KannelPorts;
  /** bearerbox's status.txt. */
  status(): Promise<string>;
  /** CPU seconds (user + system) each Kannel process has used so far. */
  cpuSeconds(): Promise<Record<string, number>>;
  /** Stops every process (smsbox, fakesmsc, bearerbox); resolves with fakesmsc's summary line. */
  stop(): Promise<string>;
  /** The last lines of the logs, for error messages. */
  logTail(): Promise<string>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function get(url: string, timeoutMs = 2_000): Promise<string | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return await response.text();
  } catch {
    return null;
  }
}

const cpuOf = (pid: number | undefined): number => cpuSecondsOf(pid) ?? 0;

/** Every child started here, killed with SIGKILL if the bench process exits with them still running. */
const alive = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

export async function startKannel(install: KannelInstall, options: { logLevel?: number; log: (line: string) => void }): Promise<RunningKannel> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-bench-kannel-'));
  const [admin, smsbox, fake, sendsms] = await freePorts(4);
  const ports: KannelPorts = { admin: admin!, smsbox: smsbox!, fake: fake!, sendsms: sendsms! };
  const template = await readFile(path.join(here, 'kannel.conf.template'), 'utf8');
  const values: Record<string, string> = {
    ADMIN_PORT: String(ports.admin),
    SMSBOX_PORT: String(ports.smsbox),
    FAKE_PORT: String(ports.fake),
    SENDSMS_PORT: String(ports.sendsms),
    DIR: dir,
    LOG_LEVEL: String(options.logLevel ?? 2),
    DLR_STORAGE: 'internal',
    EXTRA: '',
  };
  const config = path.join(dir, 'kannel.conf');
  await writeFile(config, template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => values[key] ?? ''));

  const children = new Map<string, ChildProcess>();
  const start = async (name: string, file: string, args: string[]) => {
    const out = await open(path.join(dir, `${name}.out`), 'a');
    const child = spawn(file, args, { cwd: dir, stdio: ['ignore', out.fd, out.fd] });
    await out.close();
    alive.add(child);
    child.once('exit', () => alive.delete(child));
    child.once('error', () => alive.delete(child));
    children.set(name, child);
    return child;
  };
  const exitedEarly = (name: string) => {
    const child = children.get(name);
    return !child || child.exitCode !== null || child.signalCode !== null;
  };
  const statusUrl = `http://127.0.0.1:${ports.admin}/status.txt?password=bench`;

  const stopOne = async (name: string, signal: NodeJS.Signals) => {
    const child = children.get(name);
    if (!child || exitedEarly(name)) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    if ((await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)])) === false) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  const logTail = async () => {
    const parts: string[] = [];
    for (const name of ['bearerbox.out', 'fakesmsc.out', 'smsbox.out']) {
      const text = await readFile(path.join(dir, name), 'utf8').catch(() => '');
      const last = text.trim().split('\n').filter((l) => /ERROR|PANIC|WARNING/.test(l) && !/kannel\.store|System error 2:/.test(l)).slice(-2); // a fresh store's notices are expected
      if (last.length) parts.push(`${name}: ${last.join(' | ')}`);
    }
    return parts.join('; ');
  };
  const stop = async () => {
    await stopOne('smsbox', 'SIGTERM');
    await stopOne('fakesmsc', 'SIGINT'); // fakesmsc prints its totals on SIGINT only
    await stopOne('bearerbox', 'SIGTERM');
    const fakeLog = await readFile(path.join(dir, 'fakesmsc.out'), 'utf8').catch(() => '');
    return fakeLog.match(/fakesmsc: (\d+ messages sent and \d+ received)/)?.[1] ?? '';
  };

  try {
    await start('bearerbox', install.bearerbox, ['-v', '2', config]);
    // bearerbox opens the admin port and the fake SMSC's listening port at start-up.
    let deadline = Date.now() + 15_000;
    while (!(await get(statusUrl))) {
      if (exitedEarly('bearerbox') || Date.now() > deadline) throw new Error(`bearerbox did not start: ${await logTail()}`);
      await sleep(100);
    }
    for (let attempt = 0; ; attempt++) {
      // fakesmsc -m 0: sends no MO messages, only reads what the fake SMSC writes to it.
      await start('fakesmsc', install.fakesmsc, ['-H', '127.0.0.1', '-r', String(ports.fake), '-m', '0', '-v', '1', '1 2 text unused']);
      await sleep(300);
      if (!exitedEarly('fakesmsc')) break;
      if (attempt === 10) throw new Error(`fakesmsc could not connect to the fake SMSC: ${await logTail()}`);
    }
    await start('smsbox', install.smsbox, ['-v', '2', config]);
    deadline = Date.now() + 15_000;
    for (;;) {
      const status = (await get(statusUrl)) ?? '';
      const smscOnline = /fake\[fake\][^\n]*\(online/.test(status);
      const smsboxConnected = /Box connections:\s*\n\s*smsbox:/.test(status);
      if (smscOnline && smsboxConnected && (await get(`http://127.0.0.1:${ports.sendsms}/`)) !== null) break;
      if (exitedEarly('smsbox') || exitedEarly('bearerbox') || Date.now() > deadline) {
        throw new Error(`Kannel not ready (smsc online: ${smscOnline}, smsbox connected: ${smsboxConnected}): ${await logTail()}`);
      }
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw Object.assign(error as Error, { dir });
  }

  return {
    dir,
    ports,
    status: async () => (await get(statusUrl)) ?? '',
    cpuSeconds: async () => ({
      bearerbox: await cpuOf(children.get('bearerbox')?.pid),
      smsbox: await cpuOf(children.get('smsbox')?.pid),
      fakesmsc: await cpuOf(children.get('fakesmsc')?.pid),
    }),
    stop,
    logTail,
  };
}

export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true });
