#!/usr/bin/env node
// The `weft` command: composition root of the CLI.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { CliCommands } from './cli-command.js';
import { createCliContainer } from './cli-container.js';
import { runCli } from './run-cli.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const container = createCliContainer(version);
const io = { out: (line: string) => process.stdout.write(`${line}\n`), err: (line: string) => process.stderr.write(`${line}\n`) };

process.exitCode = await runCli(process.argv.slice(2), container.get<CliCommands>(CliCommands), io);
