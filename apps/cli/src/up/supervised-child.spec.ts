import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ChildEvent, type ChildSpec, SupervisedChild } from './supervised-child.js';

let dir: string;
const started: SupervisedChild[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-up-supervisor-'));
});
afterEach(async () => {
  for (const child of started.splice(0)) child.killNow();
  await rm(dir, { recursive: true, force: true });
});

const fast = { initialDelayMs: 50, maxDelayMs: 200, stableAfterMs: 5_000 };

function node(name: string, script: string): ChildSpec {
  return { name, command: process.execPath, args: ['-e', script], logFile: join(dir, `${name}.log`) };
}

function supervise(spec: ChildSpec, events: ChildEvent[] = []): SupervisedChild {
  const child = new SupervisedChild(spec, { restart: fast, onEvent: (event) => events.push(event) });
  started.push(child);
  child.start();
  return child;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('SupervisedChild', () => {
  it('appends the output of each run to the log file, with a line at each start and exit', async () => {
    const events: ChildEvent[] = [];
    const child = supervise(node('talker', 'console.log("hello out"); console.error("hello err"); setTimeout(() => process.exit(3), 50)'), events);
    await until(() => events.some((event) => event.type === 'exited'));
    await child.stop(1_000);
    const log = await readFile(join(dir, 'talker.log'), 'utf8');
    expect(log).toMatch(/--- weft up: starting talker at .*: .* -e /);
    expect(log).toContain('hello out\n');
    expect(log).toContain('hello err\n');
    expect(log).toMatch(/--- weft up: talker exited \(code 3\)/);
  });

  it('restarts a child that keeps crashing, waiting longer each time up to the cap', async () => {
    const events: ChildEvent[] = [];
    const child = supervise(node('crasher', 'process.exit(1)'), events);
    await until(() => child.restarts >= 4);
    const waits = events.flatMap((event) => (event.type === 'exited' ? [event.restartInMs] : []));
    expect(waits.slice(0, 4)).toEqual([50, 100, 200, 200]);
    expect(events.filter((event) => event.type === 'started').map((event) => (event.type === 'started' ? event.restarts : -1)).slice(0, 3)).toEqual([0, 1, 2]);
    await child.stop(1_000);
    expect(child.state).toBe('stopped');
  });

  it('is "restarting" between a crash and the next start', async () => {
    const child = new SupervisedChild(node('slow-restart', 'process.exit(1)'), { restart: { ...fast, initialDelayMs: 1_000 } });
    started.push(child);
    child.start();
    await until(() => child.state === 'restarting');
    expect(child.pid).toBeUndefined();
    await child.stop(1_000);
    expect(child.state).toBe('stopped');
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(child.restarts).toBe(0); // the pending restart was cancelled
  });

  it('stops a child with SIGTERM and does not restart it', async () => {
    const events: ChildEvent[] = [];
    const child = supervise(node('server', 'setInterval(() => {}, 1000)'), events);
    await until(() => child.pid !== undefined);
    const pid = child.pid as number;
    await child.stop(5_000);
    expect(alive(pid)).toBe(false);
    expect(child.state).toBe('stopped');
    expect(events.filter((event) => event.type === 'exited')).toEqual([]);
    expect(await readFile(join(dir, 'server.log'), 'utf8')).toContain('server exited (SIGTERM)');
  });

  it('kills a child that ignores SIGTERM once the grace period is over', async () => {
    const child = supervise(node('stubborn', 'process.on("SIGTERM", () => console.log("not yet")); console.log("pid " + process.pid); setInterval(() => {}, 1000)'));
    await until(async () => /pid \d+/.test(await readFile(join(dir, 'stubborn.log'), 'utf8').catch(() => '')));
    const pid = child.pid as number;
    const before = Date.now();
    await child.stop(300);
    expect(Date.now() - before).toBeGreaterThanOrEqual(290);
    expect(alive(pid)).toBe(false);
    const log = await readFile(join(dir, 'stubborn.log'), 'utf8');
    expect(log).toContain('not yet');
    expect(log).toContain('stubborn exited (SIGKILL)');
  });

  it('stops what a shell command started along with it', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const spec: ChildSpec = {
      name: 'shell',
      command: `${JSON.stringify(process.execPath)} -e "setInterval(() => {}, 1000)" & echo $! > ${JSON.stringify(pidFile)}; wait`,
      args: [],
      shell: true,
      logFile: join(dir, 'shell.log'),
    };
    const child = supervise(spec);
    let grandchild = 0;
    await until(async () => (grandchild = Number(await readFile(pidFile, 'utf8').catch(() => '0'))) > 0);
    expect(alive(grandchild)).toBe(true);
    await child.stop(2_000);
    await until(() => !alive(grandchild), 2_000);
  });

  it('reports a program that cannot be started and tries again', async () => {
    const events: ChildEvent[] = [];
    const child = supervise({ name: 'ghost', command: join(dir, 'no-such-program'), args: [], logFile: join(dir, 'ghost.log') }, events);
    await until(() => events.some((event) => event.type === 'failed-to-start'));
    const failed = events.find((event) => event.type === 'failed-to-start');
    expect(failed?.type === 'failed-to-start' && failed.error.message).toContain('ENOENT');
    await until(() => child.restarts >= 1);
    await child.stop(1_000);
    expect(await readFile(join(dir, 'ghost.log'), 'utf8')).toContain('ghost could not start');
  });

  it('starts the doubling over after a run that lasted', async () => {
    let clock = 0;
    const events: ChildEvent[] = [];
    const child = new SupervisedChild(node('flaky', 'setTimeout(() => process.exit(1), 30)'), {
      restart: fast,
      now: () => clock,
      onEvent: (event) => {
        events.push(event);
        clock += event.type === 'started' && event.restarts === 2 ? 10_000 : 0;
      },
    });
    started.push(child);
    child.start();
    await until(() => events.filter((event) => event.type === 'exited').length >= 3);
    await child.stop(1_000);
    const waits = events.flatMap((event) => (event.type === 'exited' ? [event.restartInMs] : []));
    expect(waits.slice(0, 3)).toEqual([50, 100, 50]);
  });
});
