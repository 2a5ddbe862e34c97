/**
 * Whether a real path lies inside a root's real path: the check that keeps `mirror serve` (files
 * served), `design publish` (the tokens folder) and `init` (the scaffold's folders) inside the
 * repository once symbolic links are resolved. Pure: the caller resolves the paths and passes the
 * platform's separator.
 */

/** `value` without trailing separators; the file system's root (a lone separator) is kept. */
const withoutTrailing = (value: string, sep: string) => {
  let end = value.length
  while (end > sep.length && value.endsWith(sep, end)) end -= sep.length
  return value.slice(0, end)
}

/**
 * True when `real` is `root` or under it. A name that only begins as the root does (`/a/bc` for
 * `/a/b`) is outside; trailing separators on either side do not count; the root `/` holds every
 * absolute path.
 */
export const isWithin = (root: string, real: string, sep: string): boolean => {
  const base = withoutTrailing(root, sep)
  const candidate = withoutTrailing(real, sep)
  return candidate === base || candidate.startsWith(base.endsWith(sep) ? base : `${base}${sep}`)
}
