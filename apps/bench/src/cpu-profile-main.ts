#!/usr/bin/env node
// Prints the self-time summary (top functions, by module) of .cpuprofile files: `node apps/bench/dist/cpu-profile-main.js [--top 15] FILE...`.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidBenchOptionError } from './bench-options.js';
import { type CpuProfile, readCpuProfile, renderCpuProfileSummary, summarizeCpuProfiles } from './cpu-profile-summary.js';
import { failHelper } from './helper-args.js';

const repoRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const argv = process.argv.slice(2);
const topAt = argv.indexOf('--top');
const top = topAt < 0 ? 15 : Number(argv[topAt + 1]);
const files = argv.filter((_, index) => topAt < 0 || (index !== topAt && index !== topAt + 1));

function load(file: string): CpuProfile | Error {
  try {
    const profile = readCpuProfile(JSON.parse(readFileSync(file, 'utf8')), file);
    return profile.ok ? profile.value : profile.error;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

if (!Number.isInteger(top) || top < 1) failHelper('cpu-profile', new InvalidBenchOptionError(String(argv[topAt + 1]), '--top takes a whole number, e.g. --top 15'));
else if (files.length === 0) failHelper('cpu-profile', new InvalidBenchOptionError('', 'name at least one .cpuprofile file (written by node --cpu-prof)'));
else {
  const loaded = files.map(load);
  const broken = loaded.find((profile): profile is Error => profile instanceof Error);
  if (broken) failHelper('cpu-profile', broken);
  else process.stdout.write(`${renderCpuProfileSummary(summarizeCpuProfiles(loaded as CpuProfile[], repoRoot), top)}\n`);
}
