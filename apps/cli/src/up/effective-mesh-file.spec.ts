import { parseMeshFile } from '@weft/adapter-file';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { effectiveMeshText, writeEffectiveMeshFile } from './effective-mesh-file.js';
import { SHOP_MESH } from './mesh-plan.spec-helper.js';

const ports = new Map([['shop/books-0', 45_001]]);

describe('effectiveMeshText', () => {
  it('adds the assigned inbound port to the instances that have none, keeping the rest and the comments', () => {
    const text = effectiveMeshText(`# my mesh\n${SHOP_MESH}`, ports, '/srv/mesh/mesh.yaml');
    expect(text).toMatch(/^# Written by weft up from \/srv\/mesh\/mesh.yaml/);
    expect(text).toContain('# my mesh');
    const parsed = parseMeshFile(text, '/srv/mesh/mesh.yaml');
    if (!parsed.ok) throw new Error(parsed.error.join('\n'));
    const byName = new Map(parsed.value.instances.map((instance) => [instance.name, instance]));
    expect(byName.get('books-0')?.proxyInboundPort).toBe(45_001);
    expect(byName.get('web-0')?.proxyInboundPort).toBe(4301);
    expect(byName.get('books-legacy')?.proxyInboundPort).toBeUndefined();
    expect(parsed.value.endpoints.get('books.shop.svc.cluster.local:7000')?.[0]?.proxyInboundPort).toBe(45_001);
  });

  it('leaves a port the file gives alone, and a text that is not YAML as it is', () => {
    expect(effectiveMeshText(SHOP_MESH, new Map([['shop/web-0', 1]]), 'm.yaml')).toContain('inboundPort: 4301');
    expect(effectiveMeshText('services: [', ports, 'm.yaml')).toBe('services: [');
  });
});

describe('writeEffectiveMeshFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-up-effective-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the file and writes it again when the user edits theirs', async () => {
    const source = join(dir, 'mesh.yaml');
    const target = join(dir, 'mesh.effective.yaml');
    await writeFile(source, SHOP_MESH);
    const effective = await writeEffectiveMeshFile(source, target, ports, 50);
    try {
      expect(await readFile(target, 'utf8')).toContain('inboundPort: 45001');
      await writeFile(source, SHOP_MESH.replace('GREETING: hi', 'GREETING: hello'));
      const deadline = Date.now() + 5_000;
      while (!(await readFile(target, 'utf8')).includes('GREETING: hello')) {
        if (Date.now() > deadline) throw new Error('the effective file was not written again');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await readFile(target, 'utf8')).toContain('inboundPort: 45001');
    } finally {
      effective.close();
    }
  });
});
