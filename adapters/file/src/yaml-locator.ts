// YamlLocator: finds where a field of a parsed YAML document was written (line, column, source text) from its path.
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type LineCounter, type Node, type Pair } from 'yaml';

/** A path into the document: map keys and list indexes, e.g. ['services', 0, 'ports', 1]. */
export type FieldPath = readonly (string | number)[];

/** Where something was written: 1-based line and column, and the text written there. */
export interface SourceSpot {
  readonly line: number;
  readonly column: number;
  readonly source: string;
}

const MAX_SOURCE_LENGTH = 80;

export class YamlLocator {
  constructor(
    private readonly document: Document,
    private readonly lineCounter: LineCounter,
    private readonly text: string,
  ) {}

  /** The value at `path`, or the nearest enclosing value that was written when it is missing. */
  valueAt(path: FieldPath): SourceSpot {
    const found = this.walk(path);
    const node = found.node ?? found.pair?.key;
    return this.spotOf(node as Node | undefined, found.pair);
  }

  /** The key of the last field of `path` (e.g. to point at an unknown field's name), else as valueAt. */
  keyAt(path: FieldPath): SourceSpot {
    const found = this.walk(path);
    if (found.complete && found.pair && isScalar(found.pair.key)) return this.spotOf(found.pair.key, undefined);
    return this.valueAt(path);
  }

  private walk(path: FieldPath): { node: Node | undefined; pair: Pair | undefined; complete: boolean } {
    let node = this.resolve(this.document.contents as Node | null);
    let pair: Pair | undefined;
    for (const [index, segment] of path.entries()) {
      const next = this.child(node, segment);
      if (next === undefined) return { node, pair, complete: false };
      node = this.resolve(next.node);
      pair = next.pair;
      // A key written without a value ("port:") has no value node; point at its key.
      if (node === undefined) return { node: undefined, pair, complete: index === path.length - 1 };
    }
    return { node, pair, complete: true };
  }

  private child(node: Node | undefined, segment: string | number): { node: Node | undefined; pair?: Pair } | undefined {
    if (isSeq(node)) {
      const item = typeof segment === 'number' ? node.items[segment] : undefined;
      return item === undefined ? undefined : { node: item as Node };
    }
    if (!isMap(node)) return undefined;
    for (const item of node.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment)) {
        return { node: (item.value ?? undefined) as Node | undefined, pair: item as Pair };
      }
    }
    // Fields brought in by a merge key ("<<: *defaults") are found in the merged maps.
    for (const item of node.items) {
      if (!isPair(item) || !isScalar(item.key) || !isMergeKey(item.key.value)) continue;
      const sources = isSeq(item.value) ? item.value.items : [item.value];
      for (const source of sources) {
        const found = this.child(this.resolve(source as Node), segment);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  }

  private resolve(node: Node | null | undefined): Node | undefined {
    if (node === null || node === undefined) return undefined;
    return isAlias(node) ? ((node.resolve(this.document) as Node | undefined) ?? node) : node;
  }

  private spotOf(node: Node | undefined, pair: Pair | undefined): SourceSpot {
    const range = node?.range ?? (pair?.key as Node | undefined)?.range;
    if (!range) return { line: 1, column: 1, source: '' };
    const { line, col } = this.lineCounter.linePos(range[0]);
    const written = this.text.slice(range[0], range[1]).trim();
    const source = written.length > MAX_SOURCE_LENGTH ? `${written.slice(0, MAX_SOURCE_LENGTH)}...` : written;
    return { line, column: col, source };
  }
}

// With merge keys on, the parser reads "<<" as a symbol.
function isMergeKey(value: unknown): boolean {
  return value === '<<' || (typeof value === 'symbol' && value.description === '<<');
}

/** A field path as a user reads it: `services[0].ports[1].port`, `labels["weft.io/tier"]`. */
export function formatFieldPath(path: FieldPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
