/** "Did you mean" for unknown names (event types, scenarios, exchanges and queues). */

export function editDistance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]
}

/**
 * The candidates close to `input`, closest first: a small edit distance (at most a third of the
 * longer name, and at least 2), or one name containing the other. Case-insensitive.
 */
export function closest<T>(input: string, candidates: T[], nameOf: (c: T) => string, limit = 3): T[] {
  const target = input.toLowerCase()
  return candidates
    .map((c) => {
      const name = nameOf(c).toLowerCase()
      let score = editDistance(target, name)
      if (name.includes(target) || target.includes(name)) score = Math.min(score, 1)
      return {c, name, score, allowed: Math.max(2, Math.floor(Math.max(name.length, target.length) / 3))}
    })
    .filter((s) => s.score <= s.allowed)
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, limit)
    .map((s) => s.c)
}
