import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ephemeralPortRange, freeLoopbackPorts, loopbackPortInUse } from './free-ports.js';

const held: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

function hold(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      held.push(server);
      resolve(server);
    });
  });
}

describe('ephemeralPortRange', () => {
  it("reads the kernel's range as /proc prints it", () => {
    expect(ephemeralPortRange(() => '32768\t60999\n')).toEqual({ low: 32768, high: 60999 });
  });

  it('is undefined for text that is not a range, or a file that cannot be read', () => {
    expect(ephemeralPortRange(() => 'a b')).toBeUndefined();
    expect(ephemeralPortRange(() => '40000 30000')).toBeUndefined();
    expect(
      ephemeralPortRange(() => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });
});

describe('freeLoopbackPorts', () => {
  it('gives distinct ports below the ephemeral range, each free to bind right after', async () => {
    const ports = await freeLoopbackPorts(12, { range: { low: 32768, high: 60999 } });
    expect(new Set(ports).size).toBe(12);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(32768);
      await hold(port);
    }
  });

  it('skips ports something listens on, and leaves the rest to the kernel once its tries run out', async () => {
    // Every candidate below a range starting at 11000 taken (or unbindable): nothing there can be given.
    const range = { low: 11_000, high: 60999 };
    for (let port = 10_000; port < range.low; port++) await hold(port).catch(() => undefined);
    const ports = await freeLoopbackPorts(3, { range });
    expect(new Set(ports).size).toBe(3);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(range.low);
      expect(await loopbackPortInUse(port)).toBe(false);
    }
  });

  it("leaves the pick to the kernel when the range leaves too little room below it, or is unknown", async () => {
    const kernelRange = ephemeralPortRange();
    for (const range of [{ low: 10_500, high: 60999 }, undefined]) {
      const ports = await freeLoopbackPorts(4, { range });
      expect(new Set(ports).size).toBe(4);
      for (const port of ports) {
        expect(port).toBeGreaterThan(0);
        if (kernelRange !== undefined) expect(port).toBeGreaterThanOrEqual(kernelRange.low);
      }
    }
  });
});
