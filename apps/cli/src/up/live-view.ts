// The terminal output while the mesh runs: events as lines, and the figures as a table redrawn in place or as lines.

/** Moves the cursor up `lines` lines and clears from there to the end of the screen. */
export function eraseLines(lines: number): string {
  return lines > 0 ? `\x1b[${lines}A\x1b[J` : '';
}

export class LiveView {
  private drawn: readonly string[] = [];

  /**
   * `write` prints one line. Interactive, the table is redrawn in place: an event erases it, prints, and draws it again
   * below. Otherwise each table is printed as it comes.
   */
  constructor(
    private readonly write: (line: string) => void,
    private readonly interactive: boolean,
  ) {}

  event(line: string): void {
    if (!this.interactive || this.drawn.length === 0) {
      this.write(line);
      return;
    }
    this.write(`${eraseLines(this.drawn.length)}${line}`);
    for (const drawn of this.drawn) this.write(drawn);
  }

  table(lines: readonly string[]): void {
    if (!this.interactive) {
      for (const line of lines) this.write(line);
      return;
    }
    const [first = '', ...rest] = lines;
    this.write(`${eraseLines(this.drawn.length)}${first}`);
    for (const line of rest) this.write(line);
    this.drawn = lines;
  }

  /** Forgets the drawn table, so what is printed next stays below it. */
  release(): void {
    this.drawn = [];
  }
}
