// CryptoRandomSource: uniform random numbers from the operating system's CSPRNG, drawn in batches.
import type { RandomSource } from '@weft/core';
import { injectable } from 'inversify';
import { randomFillSync } from 'node:crypto';

const BATCH = 1024;

@injectable()
export class CryptoRandomSource implements RandomSource {
  private readonly pool = new Uint32Array(BATCH);
  private index = BATCH;

  next(): number {
    if (this.index === BATCH) {
      randomFillSync(this.pool);
      this.index = 0;
    }
    return (this.pool[this.index++] as number) / 4_294_967_296;
  }
}
