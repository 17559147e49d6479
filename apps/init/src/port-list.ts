// Port lists such as "4290,4291,8000-8100": parsing, normalising, and chunking into iptables multiport matches.
import { err, ok, type Result } from '@weft/core';
import { InvalidInitPortError } from './init-argument-error.js';

/** An inclusive range of TCP ports; a single port has first === last. */
export interface PortRange {
  readonly first: number;
  readonly last: number;
}

/** iptables' multiport match takes at most 15 ports per rule, a range counting as two. */
export const MULTIPORT_MAX_SLOTS = 15;

const decimal = /^\d{1,5}$/;

/** Reads one port 1-65535; `flag` names the option the value came from, for the error. */
export function parsePort(flag: string, text: string): Result<number, InvalidInitPortError> {
  const port = portNumber(text.trim());
  if (port === undefined) {
    return err(new InvalidInitPortError(flag, text, 'is not a port; write a number from 1 to 65535, e.g. 4243'));
  }
  return ok(port);
}

/**
 * Reads "4290,4291,8000-8100" (ranges also as "8000:8100"); empty text is the empty list. The ranges come back
 * sorted and merged, so the same set of ports always gives the same rules.
 */
export function parsePortList(flag: string, text: string): Result<PortRange[], InvalidInitPortError> {
  if (text.trim() === '') return ok([]);
  const ranges: PortRange[] = [];
  for (const item of text.split(',')) {
    const range = parsePortRange(flag, item.trim());
    if (!range.ok) return range;
    ranges.push(range.value);
  }
  return ok(normalisePortRanges(ranges));
}

/** Sorts ranges and merges those that overlap (adjacent ones stay apart, so "4290,4291" reads back the same). */
export function normalisePortRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.first - b.first || a.last - b.last);
  const merged: PortRange[] = [];
  for (const range of sorted) {
    const previous = merged.at(-1);
    if (previous !== undefined && range.first <= previous.last) {
      merged[merged.length - 1] = { first: previous.first, last: Math.max(previous.last, range.last) };
    } else {
      merged.push(range);
    }
  }
  return merged;
}

/** Splits ranges into groups that each fit one multiport rule (at most 15 slots; a range takes two). */
export function chunkForMultiport(ranges: readonly PortRange[]): PortRange[][] {
  const chunks: PortRange[][] = [];
  let current: PortRange[] = [];
  let used = 0;
  for (const range of ranges) {
    const slots = multiportSlots(range);
    if (used + slots > MULTIPORT_MAX_SLOTS) {
      chunks.push(current);
      current = [];
      used = 0;
    }
    current.push(range);
    used += slots;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** How many of multiport's 15 slots a range takes: one for a single port, two for a range. */
export function multiportSlots(range: PortRange): number {
  return range.first === range.last ? 1 : 2;
}

/** "4290,4291,8000:8100": the text of a multiport --dports value, as iptables-save prints it. */
export function formatMultiportList(ranges: readonly PortRange[]): string {
  return ranges.map((range) => (range.first === range.last ? `${range.first}` : `${range.first}:${range.last}`)).join(',');
}

function parsePortRange(flag: string, item: string): Result<PortRange, InvalidInitPortError> {
  const separator = item.search(/[-:]/);
  if (separator < 0) {
    const port = portNumber(item);
    return port === undefined ? err(badItem(flag, item)) : ok({ first: port, last: port });
  }
  const first = portNumber(item.slice(0, separator).trim());
  const last = portNumber(item.slice(separator + 1).trim());
  if (first === undefined || last === undefined) return err(badItem(flag, item));
  if (first > last) {
    const reason = `is a reversed range; write the lower port first, e.g. "${last}-${first}"`;
    return err(new InvalidInitPortError(flag, item, reason));
  }
  return ok({ first, last });
}

function badItem(flag: string, item: string): InvalidInitPortError {
  const reason = item === '' ? 'is an empty list entry; remove the extra ","' : 'is not a port or port range; write ports 1-65535 such as "4290" or "8000-8100"';
  return new InvalidInitPortError(flag, item, reason);
}

function portNumber(text: string): number | undefined {
  if (!decimal.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65_535 ? port : undefined;
}
