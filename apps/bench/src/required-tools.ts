// Which system tools a benchmark needs for the chosen contenders and scenarios, and which of them are missing from PATH.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { BenchOptions } from './bench-options.js';

export const SETUP_COMMAND = 'sudo scripts/setup-bench.sh';

/** The executables a run with these options starts. */
export function requiredTools(options: Pick<BenchOptions, 'contenders' | 'scenarios' | 'pin'>): string[] {
  const tools = new Set<string>(['nginx']);
  if (options.pin) tools.add('taskset');
  if (options.scenarios.includes('h1-max')) tools.add('wrk');
  if (options.scenarios.includes('h1-hey')) tools.add('hey');
  if (options.scenarios.includes('h2c-max')) tools.add('h2load');
  if (options.contenders.includes('haproxy')) tools.add('haproxy');
  return [...tools];
}

function onPath(tool: string, path: string): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The tools that no directory of PATH (plus /usr/sbin, /sbin, where Debian puts nginx and haproxy) holds. */
export function missingTools(tools: readonly string[], path = process.env['PATH'] ?? ''): string[] {
  const searched = [path, '/usr/sbin', '/sbin'].join(delimiter);
  return tools.filter((tool) => !onPath(tool, searched));
}
