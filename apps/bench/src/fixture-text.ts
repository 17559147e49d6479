// Reads a captured tool output from src/fixtures/ for the specs (real wrk, hey, h2load and /proc output from this machine).
import { readFileSync } from 'node:fs';

export function fixtureText(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}
