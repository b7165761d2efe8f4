/**
 * A fresh copy of a string. Parsed fields are slices of the parser's whole
 * input chunk, and keeping a slice keeps the chunk alive: samples and names
 * are kept to the end, so they must not pin 64 KiB each.
 */
export function copyString(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8')
}
