// Finds regular expressions a backtracking engine can take exponential or high-polynomial time on (ReDoS).
import { CodeUnitSet } from './code-unit-set.js';
import type { RegexNode } from './regex-syntax.js';

type Repeat = Extract<RegexNode, { type: 'repeat' }>;
type Alternation = Extract<RegexNode, { type: 'alternation' }>;

/**
 * Why `node` may backtrack catastrophically on inputs of up to 2^log2MaxInput characters, or undefined. Refuses:
 * - a repeated group (max > 1) containing a quantifier of variable count, e.g. "(a+)+", "(a?){5}": exponential;
 * - a repeated group with alternatives that can start with the same character or match nothing, e.g. "(a|ab)*";
 * - quantified parts that can take the same characters one after the other, e.g. ".*a.*a.*" or "\w*\d+\w*": each
 *   such overlap multiplies the work of a failing match by the input length. One overlap (".*foo.*") is accepted;
 * - too many optional parts or alternatives that can match the same text, each of which doubles that work.
 * The checks are conservative: a refused pattern may in fact be safe, never the other way round for these shapes.
 */
export function backtrackingProblem(node: RegexNode, log2MaxInput: number): string | undefined {
  return structureProblem(node) ?? ambiguityProblem(node, log2MaxInput);
}

// ---------------------------------------------------------------- what a node can start with, contain, and measure

interface Start {
  readonly set: CodeUnitSet;
  readonly nullable: boolean;
}

/** The code units a match of `node` can begin with, and whether it can match empty text. */
function start(node: RegexNode): Start {
  switch (node.type) {
    case 'chars':
      return { set: node.set, nullable: false };
    case 'assertion':
      return { set: CodeUnitSet.EMPTY, nullable: true };
    case 'sequence': {
      let set = CodeUnitSet.EMPTY;
      for (const item of node.items) {
        const next = start(item);
        set = set.union(next.set);
        if (!next.nullable) return { set, nullable: false };
      }
      return { set, nullable: true };
    }
    case 'alternation': {
      const starts = node.alternatives.map(start);
      return { set: starts.reduce((all, s) => all.union(s.set), CodeUnitSet.EMPTY), nullable: starts.some((s) => s.nullable) };
    }
    case 'repeat': {
      if (node.max === 0) return { set: CodeUnitSet.EMPTY, nullable: true };
      const body = start(node.body);
      return { set: body.set, nullable: body.nullable || node.min === 0 };
    }
  }
}

/** Every code unit a match of `node` can contain. */
function allChars(node: RegexNode): CodeUnitSet {
  switch (node.type) {
    case 'chars':
      return node.set;
    case 'assertion':
      return CodeUnitSet.EMPTY;
    case 'sequence':
      return node.items.reduce((all, item) => all.union(allChars(item)), CodeUnitSet.EMPTY);
    case 'alternation':
      return node.alternatives.reduce((all, item) => all.union(allChars(item)), CodeUnitSet.EMPTY);
    case 'repeat':
      return node.max === 0 ? CodeUnitSet.EMPTY : allChars(node.body);
  }
}

/** The length of every match of `node`, or undefined when matches can differ in length. */
function fixedLength(node: RegexNode): number | undefined {
  switch (node.type) {
    case 'chars':
      return 1;
    case 'assertion':
      return 0;
    case 'sequence':
      return sumOrUndefined(node.items.map(fixedLength));
    case 'alternation': {
      const lengths = new Set(node.alternatives.map(fixedLength));
      return lengths.size === 1 ? [...lengths][0] : undefined;
    }
    case 'repeat': {
      const body = fixedLength(node.body);
      return node.min === node.max && body !== undefined ? body * node.min : node.max === 0 ? 0 : undefined;
    }
  }
}

function sumOrUndefined(values: readonly (number | undefined)[]): number | undefined {
  let sum = 0;
  for (const value of values) {
    if (value === undefined) return undefined;
    sum += value;
  }
  return sum;
}

/** How many alternatives can match text an earlier one can also start (same first character, or both empty). */
function overlappingAlternatives(node: Alternation): number {
  let seen = CodeUnitSet.EMPTY;
  let seenNullable = false;
  let overlapping = 0;
  for (const alternative of node.alternatives) {
    const { set, nullable } = start(alternative);
    if (set.intersects(seen) || (nullable && seenNullable)) overlapping += 1;
    seen = seen.union(set);
    seenNullable ||= nullable;
  }
  return overlapping;
}

/** The first node (depth first) that `test` accepts. */
function findNode(node: RegexNode, test: (candidate: RegexNode) => boolean): RegexNode | undefined {
  if (test(node)) return node;
  const children = node.type === 'sequence' ? node.items : node.type === 'alternation' ? node.alternatives : node.type === 'repeat' ? [node.body] : [];
  for (const child of children) {
    const found = findNode(child, test);
    if (found) return found;
  }
  return undefined;
}

// ---------------------------------------------------------------- exponential shapes inside repeated groups

function structureProblem(node: RegexNode): string | undefined {
  let problem: string | undefined;
  findNode(node, (candidate) => {
    problem = candidate.type === 'repeat' && candidate.max > 1 ? repeatedBodyProblem(candidate) : undefined;
    return problem !== undefined;
  });
  return problem;
}

function repeatedBodyProblem(repeat: Repeat): string | undefined {
  const inner = findNode(repeat.body, (candidate) => candidate.type === 'repeat' && candidate.min !== candidate.max);
  if (inner?.type === 'repeat') {
    return (
      `${quote(repeat.source)} repeats a group that contains the quantifier ${quote(inner.source)} (a nested quantifier), ` +
      'which can split the same text in exponentially many ways; use a single quantifier, e.g. "[a-z0-9/]+" instead of "([a-z0-9]+/?)+"'
    );
  }
  const alternation = findNode(repeat.body, (candidate) => candidate.type === 'alternation' && ambiguousInRepeat(candidate));
  if (alternation) {
    return (
      `${quote(repeat.source)} repeats alternatives that can match the same text (two start with the same character, or one matches nothing), ` +
      'which can be tried in exponentially many ways; start each alternative with a different character, e.g. "(a[bc])+" instead of "(ab|ac)+"'
    );
  }
  return undefined;
}

function ambiguousInRepeat(node: RegexNode): boolean {
  return node.type === 'alternation' && (overlappingAlternatives(node) > 0 || node.alternatives.some((a) => start(a).nullable));
}

// ---------------------------------------------------------------- polynomial and branching ambiguity in sequences

/** A quantified or optional part whose characters later parts could also take. */
interface Head {
  readonly set: CodeUnitSet;
  /** A loop (max > 1), as opposed to an optional part or an alternation of varying length. */
  readonly repeats: boolean;
  readonly source: string;
}

interface Flow {
  readonly heads: readonly Head[];
  /** Loops that can take the same characters as an earlier loop, each described as a pair. */
  readonly loopOverlaps: readonly string[];
  /** Optional parts and alternatives that can match the same text as another part: each doubles the work. */
  readonly branches: number;
}

function ambiguityProblem(node: RegexNode, log2MaxInput: number): string | undefined {
  const { loopOverlaps, branches } = flowThrough(node, { heads: [], loopOverlaps: [], branches: 0 });
  // A failing match may take about n^(loopOverlaps + 1) * 2^branches steps; allow up to n^2 (as ".*foo.*" takes).
  if (loopOverlaps.length >= 2) {
    return (
      `the quantified parts ${loopOverlaps.join(', then ')} can take the same characters, so a failing match tries about ` +
      `n^${loopOverlaps.length + 1} ways on n characters; separate them with a character the earlier part cannot match ` +
      '(e.g. "[^/]*/" instead of ".*/") or merge them into one'
    );
  }
  if (log2MaxInput * loopOverlaps.length + branches > log2MaxInput) {
    return (
      `${branches} optional parts or alternatives can match the same text as a neighbouring part` +
      `${loopOverlaps.length > 0 ? ` besides ${loopOverlaps.join('')}` : ''}, and each doubles the work of a failing match; ` +
      'make the alternatives start with different characters or drop optional parts'
    );
  }
  return undefined;
}

function flowThrough(node: RegexNode, flow: Flow): Flow {
  switch (node.type) {
    case 'chars':
      // Fixed text ends every earlier part that cannot take it too (for the characters an attacker would pick).
      return { ...flow, heads: flow.heads.filter((head) => head.set.intersects(node.set)) };
    case 'assertion':
      return flow;
    case 'sequence':
      return node.items.reduce((current, item) => flowThrough(item, current), flow);
    case 'alternation':
      return alternationFlow(node, flow);
    case 'repeat':
      return repeatFlow(node, flow);
  }
}

function alternationFlow(node: Alternation, flow: Flow): Flow {
  const merged = mergeFlows(node.alternatives.map((alternative) => flowThrough(alternative, flow)));
  let branches = merged.branches + overlappingAlternatives(node);
  if (fixedLength(node) === undefined) {
    if (overlapsHeads(flow, start(node).set)) branches += 1;
    return { ...merged, branches, heads: addHead(merged.heads, { set: allChars(node), repeats: false, source: '' }) };
  }
  return { ...merged, branches };
}

function repeatFlow(node: Repeat, flow: Flow): Flow {
  if (node.max === 0) return flow;
  if (node.max === 1 || node.min === node.max) {
    // Once, optional, or an exact count of a body without variable quantifiers (the structure check saw to that).
    const taken = flowThrough(node.body, flow);
    if (node.min > 0) return taken;
    const merged = mergeFlows([flow, taken]);
    const branches = merged.branches + (overlapsHeads(flow, start(node.body).set) ? 1 : 0);
    return { ...merged, branches, heads: addHead(merged.heads, { set: allChars(node.body), repeats: false, source: node.source }) };
  }
  const set = allChars(node.body);
  const overlapping = flow.heads.filter((head) => head.set.intersects(set));
  const earlierLoop = overlapping.find((head) => head.repeats);
  const loopOverlaps = earlierLoop ? [...flow.loopOverlaps, `${quote(earlierLoop.source)} and ${quote(node.source)}`] : flow.loopOverlaps;
  const branches = flow.branches + (earlierLoop === undefined && overlapping.length > 0 ? 1 : 0);
  const skippable = node.min === 0 || start(node.body).nullable;
  const survivors = skippable ? flow.heads : overlapping;
  return { heads: addHead(survivors, { set, repeats: true, source: node.source }), loopOverlaps, branches };
}

function overlapsHeads(flow: Flow, set: CodeUnitSet): boolean {
  return flow.heads.some((head) => head.set.intersects(set));
}

function addHead(heads: readonly Head[], head: Head): Head[] {
  const same = heads.find((candidate) => candidate.set.equals(head.set));
  if (same === undefined) return [...heads, head];
  if (same.repeats || !head.repeats) return [...heads];
  return [...heads.filter((candidate) => candidate !== same), head];
}

/** The flow after one of several paths: every head that may be open, and the worst counts of any path. */
function mergeFlows(flows: readonly Flow[]): Flow {
  let heads: Head[] = [];
  for (const flow of flows) for (const head of flow.heads) heads = addHead(heads, head);
  const loopOverlaps = flows.reduce<readonly string[]>((worst, flow) => (flow.loopOverlaps.length > worst.length ? flow.loopOverlaps : worst), []);
  const branches = Math.max(0, ...flows.map((flow) => flow.branches));
  return { heads, loopOverlaps, branches };
}

function quote(text: string): string {
  return JSON.stringify(text);
}
