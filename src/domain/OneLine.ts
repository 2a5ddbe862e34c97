/**
 * Messages stay one line (issue 16): text we echo back (ids, file excerpts, config values) may hold
 * line breaks or terminal escape sequences, which would split an `error:` line or repaint a terminal.
 */

const named: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" }

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
const controlCharacters = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

/** `text` with every control character written as an escape (`\n`, `\u001b`), so it prints as one line. */
export const oneLine = (text: string): string =>
  text.replace(
    controlCharacters,
    (char) => named[char] ?? `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`
  )
