#!/usr/bin/env node
// weft-bench: runs the side-by-side proxy benchmark, prints the tables and writes docs/benchmarks.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_USAGE, parseBenchOptions } from './bench-options.js';
import { type BenchReportInput, keptNotes, relativeCommand, renderBenchReport, renderBenchTables, WEFT_NOT_MEASURED } from './bench-report.js';
import { collectMachineFacts, loadFacts } from './machine-facts.js';
import { missingTools, requiredTools, SETUP_COMMAND } from './required-tools.js';
import { runBench } from './run-bench.js';

const helperDir = dirname(fileURLToPath(import.meta.url));
const parsed = parseBenchOptions(process.argv.slice(2));

if (!parsed.ok) {
  process.stderr.write(`weft-bench: ${parsed.error.toString()}\n`);
  process.exitCode = 2;
} else if (parsed.value.help) {
  process.stdout.write(`${BENCH_USAGE}\n`);
} else {
  const options = parsed.value;
  const missing = missingTools(requiredTools(options));
  if (missing.length > 0) {
    process.stderr.write(`weft-bench: missing ${missing.join(', ')}; install them with: ${SETUP_COMMAND}\n`);
    process.exitCode = 1;
  } else {
    // Signals end the process through exit handlers, which kill every child the run started.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
    const machine = collectMachineFacts();
    const run = await runBench(options, helperDir, { log: (line) => process.stderr.write(`${line}\n`) });
    const input: BenchReportInput = {
      generatedAt: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      options,
      contenders: run.contenders,
      placeholders: run.contenders.some((contender) => contender.name === 'weft') ? [] : [{ label: 'Weft', reason: WEFT_NOT_MEASURED }],
      results: run.results,
      machine: [...machine, ...loadFacts('end')],
      pinning: run.pinning,
      commands: run.commands.map((command) => relativeCommand(command, process.execPath, process.cwd())),
      identityCommands: Object.fromEntries(
        Object.entries(run.identityCommands).map(([id, lines]) => [id, lines.map((command) => relativeCommand(command, process.execPath, process.cwd()))]),
      ),
      propagationCommands: run.propagationCommands.map((command) => relativeCommand(command, process.execPath, process.cwd())),
      configs: run.configs,
    };
    process.stdout.write(`${renderBenchTables(input)}\n`);
    if (options.out !== undefined) {
      const out = resolve(options.out);
      mkdirSync(dirname(out), { recursive: true });
      // Notes written by hand into the previous report survive the rewrite.
      writeFileSync(out, renderBenchReport(input, keptNotes(existsSync(out) ? readFileSync(out, 'utf8') : undefined)));
      process.stderr.write(`weft-bench: wrote ${out}\n`);
    }
  }
}
