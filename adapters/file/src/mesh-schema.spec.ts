import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { meshFileSchema, meshSchemaErrors } from './mesh-schema.js';
import { parseMeshFile } from './parse-mesh-file.js';

const meshes = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/meshes');

type SchemaNode = { readonly description?: string; readonly properties?: Record<string, SchemaNode>; readonly $defs?: Record<string, SchemaNode> };

/** "path" of each field (property or definition) that has no description. */
function undescribed(node: SchemaNode, path: string): string[] {
  const own = node.description ? [] : [path];
  const fields = Object.entries({ ...node.properties }).flatMap(([name, child]) => undescribed(child, `${path}.${name}`));
  const definitions = Object.entries({ ...node.$defs }).flatMap(([name, child]) => undescribed(child, `$defs.${name}`));
  return [...own, ...fields, ...definitions];
}

describe('the mesh.yaml schema', () => {
  it('describes every field and definition', () => {
    expect(undescribed(meshFileSchema as SchemaNode, '(root)')).toEqual([]);
  });

  it('is a draft 2020-12 schema requiring only apiVersion', () => {
    expect(meshFileSchema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(meshSchemaErrors({ apiVersion: 'weft.io/v1' })).toEqual([]);
    expect(meshSchemaErrors({}).map((error) => error.message)).toEqual(["must have required property 'apiVersion'"]);
  });

  const samples = readdirSync(meshes).filter((name) => name.endsWith('.yaml'));
  it.each(samples.filter((name) => !name.startsWith('broken-')))('accepts and loads the sample %s', (name) => {
    const text = readFileSync(join(meshes, name), 'utf8');
    expect(meshSchemaErrors(parse(text))).toEqual([]);
    const result = parseMeshFile(text, name);
    expect(result.ok ? [] : result.error.map(String)).toEqual([]);
  });

  it.each(samples.filter((name) => name.startsWith('broken-')))('refuses the broken sample %s', (name) => {
    expect(parseMeshFile(readFileSync(join(meshes, name), 'utf8'), name).ok).toBe(false);
  });
});
