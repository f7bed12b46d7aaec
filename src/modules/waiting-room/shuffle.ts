/**
 * The pre-queue shuffle: Fisher–Yates driven by the Park–Miller minimal standard generator.
 * The Redis adapter runs the same steps in Lua (waiting-room.lua), so one seed gives one
 * permutation in both adapters; each opening draws a fresh seed from crypto randomness.
 */
const M = 2147483647;

export function shuffleWithSeed<T>(items: readonly T[], seed: number): T[] {
  const list = [...items];
  let state = seed % M;
  if (state <= 0) state += M - 1;
  for (let i = list.length; i >= 2; i--) {
    state = (state * 48271) % M;
    const j = (state % i) + 1;
    const a = list[i - 1]!;
    list[i - 1] = list[j - 1]!;
    list[j - 1] = a;
  }
  return list;
}

/** A seed in 1..2^31-2 (the generator's valid states). */
export const seedFrom = (random: () => number): number => 1 + Math.floor(random() * (M - 2));
