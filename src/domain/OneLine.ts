/**
 * Messages stay one line (issue 16): text we echo back (ids, file excerpts, config values) may hold
 * line breaks or terminal escape sequences, which would split an `error:` line or repaint a terminal.
 */

import { utf8Length } from "./Bytes.js"
import { cutOutside } from "./Privacy.js"

const named: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" }

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
const isControl = (code: number) => code <= 0x1f || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029

/** Whether `text` holds a character `oneLine` would escape: printed as it is, it would not stay one line. */
export const hasControlCharacter = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) if (isControl(text.charCodeAt(i))) return true
  return false
}

/** `text` with every control character written as an escape (`\n`, `\u001b`), so it prints as one line. */
export const oneLine = (text: string): string => {
  let out = ""
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0
    out += isControl(code) ? named[char] ?? `\\u${code.toString(16).padStart(4, "0")}` : char
  }
  return out
}

/** The most of a command (or other long text) a message line shows. */
export const shownLength = 240

/**
 * `text` as a message shows it: whole when short, else its head (cut outside any secret, so a
 * redacted line never shows half of one) and its size. Records keep the text whole.
 */
export const shortened = (text: string, max = shownLength): string =>
  text.length <= max ? text : `${text.slice(0, cutOutside(text, max))}… (${utf8Length(text)} bytes)`
