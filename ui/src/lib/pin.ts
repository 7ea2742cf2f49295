// The PIN's shape, checked before it is sent (the shell checks again and keeps only a salted
// hash): 4 to 8 digits, not all the same, not a run like 1234 or 4321.

export function pinProblem(pin: string): 'pin-shape' | 'pin-guessable' | null {
  if (!/^\d{4,8}$/.test(pin)) return 'pin-shape';
  const d = [...pin].map(Number);
  const pairs = d.slice(1).map((v, i) => [d[i]!, v] as const);
  const same = pairs.every(([a, b]) => a === b);
  const up = pairs.every(([a, b]) => b === (a + 1) % 10);
  const down = pairs.every(([a, b]) => a === (b + 1) % 10);
  return same || up || down ? 'pin-guessable' : null;
}
