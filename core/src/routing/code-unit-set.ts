// CodeUnitSet: a set of UTF-16 code units kept as sorted ranges, for reasoning about regular expression classes.

/** An inclusive range of code units. */
type Range = readonly [number, number];

const MAX_CODE_UNIT = 0xffff;

export class CodeUnitSet {
  /** Sorted, non-overlapping, non-adjacent ranges. */
  private readonly ranges: readonly Range[];

  private constructor(ranges: readonly Range[]) {
    this.ranges = ranges;
  }

  static readonly EMPTY = new CodeUnitSet([]);
  static readonly ALL = new CodeUnitSet([[0, MAX_CODE_UNIT]]);

  static of(...ranges: readonly Range[]): CodeUnitSet {
    return new CodeUnitSet(normalize(ranges));
  }

  static single(code: number): CodeUnitSet {
    return new CodeUnitSet([[code, code]]);
  }

  has(code: number): boolean {
    return this.ranges.some(([low, high]) => low <= code && code <= high);
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  union(other: CodeUnitSet): CodeUnitSet {
    return new CodeUnitSet(normalize([...this.ranges, ...other.ranges]));
  }

  complement(): CodeUnitSet {
    const result: Range[] = [];
    let next = 0;
    for (const [low, high] of this.ranges) {
      if (low > next) result.push([next, low - 1]);
      next = high + 1;
    }
    if (next <= MAX_CODE_UNIT) result.push([next, MAX_CODE_UNIT]);
    return new CodeUnitSet(result);
  }

  intersects(other: CodeUnitSet): boolean {
    let i = 0;
    let j = 0;
    while (i < this.ranges.length && j < other.ranges.length) {
      const [a0, a1] = this.ranges[i] as Range;
      const [b0, b1] = other.ranges[j] as Range;
      if (a1 >= b0 && b1 >= a0) return true;
      if (a1 < b1) i += 1;
      else j += 1;
    }
    return false;
  }

  /** Whether every code unit of `other` is in this set. */
  includesAll(other: CodeUnitSet): boolean {
    return other.ranges.every(([low, high]) => this.ranges.some(([a, b]) => a <= low && high <= b));
  }

  equals(other: CodeUnitSet): boolean {
    return this.ranges.length === other.ranges.length && this.ranges.every(([low, high], i) => other.ranges[i]?.[0] === low && other.ranges[i]?.[1] === high);
  }
}

function normalize(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [low, high] of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && low <= last[1] + 1) last[1] = Math.max(last[1], high);
    else merged.push([low, high]);
  }
  return merged;
}
