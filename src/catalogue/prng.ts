/**
 * A tiny seeded PRNG for the per-message envelope fields (id, correlation id): seeding faker for every
 * message costs tens of microseconds, this costs well under one.
 */

/** FNV-1a over a string: turns (seed, type, index) into a 32-bit seed. */
export function hashSeed(...parts: (string | number)[]): number {
  let h = 0x811c9dc5
  const text = parts.join('\u0000')
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** mulberry32: returns a function giving uniform 32-bit unsigned integers. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

const HEX = '0123456789abcdef'

/** A version-4 UUID drawn from `next` (reproducible when `next` is seeded). */
export function uuidFrom(next: () => number): string {
  let out = ''
  for (let i = 0; i < 4; i++) {
    let word = next()
    for (let j = 0; j < 8; j++) {
      out += HEX[word & 0xf]
      word >>>= 4
    }
  }
  const variant = HEX[8 + (parseInt(out[16] as string, 16) & 0x3)]
  return `${out.slice(0, 8)}-${out.slice(8, 12)}-4${out.slice(13, 16)}-${variant}${out.slice(17, 20)}-${out.slice(20, 32)}`
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789'

export function alnumFrom(next: () => number, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += ALNUM[next() % ALNUM.length]
  return out
}

/**
 * A faker Randomizer on mulberry32. Every payload of a run seeds faker afresh (so payload i is the same
 * whatever order the pool is filled in); faker's own Mersenne Twister spends ~65 µs on each seed, this nothing.
 * next() joins two draws into 53 bits, as faker's own does.
 */
export function fastRandomizer(initial = 0): {next(): number; seed(seed: number | number[]): void} {
  let draw = mulberry32(initial)
  return {
    next: () => ((draw() >>> 5) * 67108864 + (draw() >>> 6)) / 9007199254740992,
    seed: (seed) => {
      draw = mulberry32(Array.isArray(seed) ? hashSeed(...seed) : seed)
    },
  }
}
