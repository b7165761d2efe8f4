/**
 * Byte sizes for people, in binary units. Two spellings, kept apart because
 * both are already in use and merging them would change stored text:
 * formatBytes writes descriptions ("1,000 bytes", "195 KiB"), formatBytesFixed
 * writes the parsers' partial-read reasons ("1000 bytes", "195.3 KiB").
 */
const numbers = new Intl.NumberFormat('en-US')

/** Sizes in binary units, one decimal below 10: "512 bytes", "2.3 MiB", "95 MiB". */
export function formatBytes(size: number): string {
  if (size < 1024) return `${numbers.format(size)} ${size === 1 ? 'byte' : 'bytes'}`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = size / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const shown = value < 10 ? value.toFixed(1).replace(/\.0$/, '') : numbers.format(Math.round(value))
  return `${shown} ${units[unit]}`
}

/** Always one decimal, KiB or MiB at most, no digit grouping: "512 bytes", "64.0 KiB", "2048.0 MiB". */
export function formatBytesFixed(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}
