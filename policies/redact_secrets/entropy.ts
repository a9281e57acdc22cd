/**
 * Shannon entropy, the measure behind the rules' entropy floors and the argument rules' value test.
 * @module
 */

/** Shannon entropy in bits per character (gitleaks' entropy floors use the same measure). */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}
