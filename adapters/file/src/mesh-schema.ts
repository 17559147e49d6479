// The mesh.yaml JSON schema from @weft/contracts, compiled once with ajv (draft 2020-12).
import { createRequire } from 'node:module';
import { Ajv2020, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv/dist/2020.js';

const require = createRequire(import.meta.url);

/** contracts/schemas/mesh.schema.json, as published by @weft/contracts. */
export const meshFileSchema: SchemaObject = require('@weft/contracts/schemas/mesh.schema.json') as SchemaObject;

let validator: ValidateFunction | undefined;

/** The schema errors of a parsed document (all of them), or an empty list when it conforms. */
export function meshSchemaErrors(document: unknown): readonly ErrorObject[] {
  validator ??= new Ajv2020({
    allErrors: true,
    // `verbose` adds each failing schema and its parent to the errors, for messages that quote descriptions.
    verbose: true,
    strict: true,
    // The schema's oneOf branches list required fields that are declared beside them, which strictRequired refuses.
    strictRequired: false,
    allowUnionTypes: true,
  }).compile(meshFileSchema);
  return validator(document) ? [] : [...(validator.errors ?? [])];
}
