/** How many bytes `text` takes in UTF-8 (what a file system counts in a name, and a limit in bytes counts). */
export const utf8Length = (text: string): number => new TextEncoder().encode(text).length

/** Byte chunks as one array (a process's output, a streamed file); a single chunk is returned as is. */
export const concatBytes = (parts: Iterable<Uint8Array>): Uint8Array => {
  const all = Array.from(parts)
  if (all.length === 1 && all[0] !== undefined) return all[0]
  const joined = new Uint8Array(all.reduce((total, part) => total + part.length, 0))
  let offset = 0
  for (const part of all) {
    joined.set(part, offset)
    offset += part.length
  }
  return joined
}
