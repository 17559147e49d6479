// Weighted choice among backends, for traffic splits (dstOverrides, HTTPRoute backendRefs).
import type { RandomSource } from '../shared/random-source.port.js';

/**
 * Picks one choice with probability weight / total weight. A choice with weight 0 (or a negative or non-finite
 * weight) is never picked; undefined when there is nothing to pick. Draws one number from `random`.
 */
export function pickWeighted<T extends { readonly weight: number }>(choices: readonly T[], random: RandomSource): T | undefined {
  let total = 0;
  let last: T | undefined;
  for (const choice of choices) {
    if (isPickable(choice.weight)) {
      total += choice.weight;
      last = choice;
    }
  }
  if (last === undefined) return undefined;
  let point = random.next() * total;
  for (const choice of choices) {
    if (!isPickable(choice.weight)) continue;
    if (point < choice.weight) return choice;
    point -= choice.weight;
  }
  // Rounding can leave `point` a hair above the last weight; the last pickable choice owns that edge.
  return last;
}

function isPickable(weight: number): boolean {
  return weight > 0 && Number.isFinite(weight);
}
