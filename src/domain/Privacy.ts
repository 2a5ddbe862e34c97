/**
 * The privacy guard (SPEC PRIV-1..4 with DECISIONS D-13): rules that recognise secrets in text,
 * and what to do with them. The rules are data: adding one is adding an entry below, no code.
 * In `enforce` mode every file we write passes through `redact`; in `shadow` mode findings are only
 * recorded. Patterns stop at `"` and `\`, so redacting serialized JSON keeps it valid.
 */
import { isTruthy } from "./Env.js"

export type PrivacyMode = "shadow" | "enforce"

export interface PrivacyRule {
  readonly id: string
  /** `redact` replaces the match; `block` replaces the whole secret block (a private key). */
  readonly action: "redact" | "block"
  readonly reason: string
  /** A first capturing group, if the pattern has one, is kept: it is context, not the secret. */
  readonly pattern: string
  readonly flags: string
  /** Text the pattern cannot match without (case-sensitive): a text without it is not searched. */
  readonly requires?: string
}

/**
 * The shortest value the privacy guard takes for a secret (PRIV-2's token rule). A token we are given
 * must be at least this long: a shorter one is no credential, and hiding it would rewrite ordinary text.
 */
export const minSecretLength = 6

/** The key words whose value the token rule redacts (a regular-expression alternation). */
const tokenKeys = "secret|password|passwd|api[_-]?key|token"

/**
 * A key of the token rule: a key word, perhaps made a compound with `key` (`secret_key`,
 * `aws_secret_access_key`), perhaps closed by a quote (a JSON or YAML key: `"password": …`, also
 * JSON-escaped). The run's own `resume_token` (MAN-1) is not a secret to hide: resume reads it.
 */
const tokenKey = `(?<!resume[_-])(?:${tokenKeys})(?:[_-]?(?:access[_-]?)?key)?(?:\\\\?["'])?`

/** An opening quote, also JSON-escaped (`\"`). */
const openQuote = `(?:\\\\?["'])?`

/**
 * A value: inside quotes, everything up to the closing quote (spaces included: the shell's
 * separators are no separators there); bare, up to a blank, a quote or a shell separator. Never
 * `\`, so a JSON string's escapes survive and serialized JSON stays valid.
 */
const tokenValue = `(?:(?<=")[^"\\\\\\r\\n]{${minSecretLength},}|(?<=')[^'\\\\\\r\\n]{${minSecretLength},}|[^\\s"'\\\\;&|<>()\`]{${minSecretLength},})`

export const privacyRules: ReadonlyArray<PrivacyRule> = [
  {
    id: "private-key",
    action: "block",
    reason: "detected private key material",
    // The whole block when its end is in the same text, else from the header to the end of the text.
    // Inside serialized JSON the block spans escapes (`\n`) but never an unescaped quote.
    pattern: "-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----(?:(?:[^\"\\\\]|\\\\.)*?-----END (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----|(?:[^\"\\\\]|\\\\.)*)",
    flags: "gi"
  },
  {
    id: "sensitive-token",
    action: "redact",
    reason: "detected high-risk token",
    // The key, its separator and an opening quote (also JSON-escaped) are the kept first group:
    // only the value is replaced. The value stops at a quote and at the shell's separators, so a
    // redacted command still reads as the commands it was (issue 16, item 10).
    pattern: `(${tokenKey}\\s*[:=]\\s*(?:(?:bearer|basic)\\s+)?${openQuote})${tokenValue}`,
    flags: "gi"
  },
  {
    id: "sensitive-token",
    action: "redact",
    reason: "detected high-risk token",
    // An HTTP Authorization header (curl -v prints it), also as a JSON key: the credential after its scheme.
    pattern: `(authorization(?:\\\\?["'])?\\s*:\\s*${openQuote}(?:bearer|basic|token|bot|digest)\\s+)[^\\s"'\\\\,;]{${minSecretLength},}`,
    flags: "gi"
  },
  {
    id: "sensitive-token",
    action: "redact",
    reason: "detected high-risk token",
    // The password of a URL (`postgres://user:password@host`), whatever its length: the user, the host and a port stay.
    // No scheme in the pattern (`://` is enough): matching one would start a search at every word.
    pattern: "(://[^\\s:/@\"'\\\\]*:)[^\\s/\"'\\\\]+(?=@)",
    flags: "gi",
    requires: "://"
  },
  {
    id: "sensitive-token",
    action: "redact",
    reason: "detected high-risk token",
    pattern: "AKIA[0-9A-Z]{16}",
    flags: "g"
  }
]

export const redactedMarker = "[REDACTED]"

export interface PrivacyFinding {
  readonly rule: string
  readonly action: "redact" | "block"
  readonly reason: string
}

const compiled = (rules: ReadonlyArray<PrivacyRule>) => rules.map((rule) => ({ rule, regex: new RegExp(rule.pattern, rule.flags) }))

/** Whether a rule may match `text` at all (its `requires` is in it). */
const mayMatch = (rule: PrivacyRule, text: string) => rule.requires === undefined || text.includes(rule.requires)
const defaultCompiled = compiled(privacyRules)

/** Every secret in `text`, and the text with each replaced by `[REDACTED]`. */
export const redact = (
  text: string,
  rules: ReadonlyArray<PrivacyRule> = privacyRules
): { readonly text: string; readonly findings: ReadonlyArray<PrivacyFinding> } => {
  const findings: Array<PrivacyFinding> = []
  let result = text
  for (const { regex, rule } of rules === privacyRules ? defaultCompiled : compiled(rules)) {
    if (!mayMatch(rule, result)) continue
    result = result.replace(regex, (_match, kept: unknown) => {
      findings.push({ rule: rule.id, action: rule.action, reason: rule.reason })
      return typeof kept === "string" ? `${kept}${redactedMarker}` : redactedMarker
    })
  }
  return { text: result, findings }
}

/**
 * The secrets in `text` that end after position `from` and, when `startsBefore` is given, start
 * before it: what a read adds to the text already checked, or what straddles the seam between reads.
 */
export const findSecrets = (text: string, from: number = 0, startsBefore?: number): ReadonlyArray<PrivacyFinding> =>
  defaultCompiled.flatMap(({ regex, rule }) =>
    !mayMatch(rule, text) ? [] : [...text.matchAll(regex)]
      .filter((match) => match.index + match[0].length > from && (startsBefore === undefined || match.index < startsBefore))
      .map(() => ({ rule: rule.id, action: rule.action, reason: rule.reason }))
  )

/**
 * PRIV-1: `CODEX_PRIVACY_GUARD_MODE` when set (even empty), else `CODEX_PRIVACY_GUARD_ENFORCE`;
 * enforce iff the value is one of 1, true, enforce, on, yes.
 */
export const privacyModeOf = (mode: string | undefined, enforce: string | undefined): PrivacyMode => {
  const value = mode ?? enforce
  return value !== undefined && (isTruthy(value) || value.trim().toLowerCase() === "enforce") ? "enforce" : "shadow"
}

const keyHeader = /-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----/g
const keyFooter = /-----END (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----/

/** The rules that find a secret inside one line of text (the key block spans lines, and is held apart). */
const lineRules = defaultCompiled.filter(({ rule }) => rule.id !== "private-key")

/** The secrets found in `text`, as [start, end) ranges, every line rule's. */
const secretRanges = (text: string): ReadonlyArray<readonly [number, number]> =>
  lineRules.flatMap(({ regex, rule }) => !mayMatch(rule, text) ? [] : [...text.matchAll(regex)].map((m) => [m.index, m.index + m[0].length] as const))

/**
 * Where to cut `text` at or before `at` so that no secret is split: the start of a secret the cut
 * would fall inside, else `at`. A head kept up to a cut then shows a whole secret or none of it.
 */
export const cutOutside = (text: string, at: number): number =>
  wholeCharacterBefore(text, secretRanges(text).reduce((cut, [start, end]) => (start < cut && cut < end ? start : cut), at))

/** Whether `at` falls between the two UTF-16 units of one character (an emoji, say). */
const insidePair = (text: string, at: number) =>
  at > 0 && at < text.length && /[\uD800-\uDBFF]/.test(text.charAt(at - 1)) && /[\uDC00-\uDFFF]/.test(text.charAt(at))

/** `at`, or one unit earlier when a cut there would leave half a character on each side. */
const wholeCharacterBefore = (text: string, at: number) => (insidePair(text, at) ? at - 1 : at)

/**
 * Where a tail of `text` starting at `at` may start so that it holds no part of a secret that began
 * before it: the end of such a secret, else `at` (issue 16: the error tail cut mid-value).
 */
export const startOutside = (text: string, at: number): number => {
  const start = secretRanges(text).reduce((start, [from, end]) => (from < start && start < end ? end : start), at)
  return insidePair(text, start) ? start + 1 : start
}

/** The characters a secret value may hold (the token rule's value class). */
const valueRun = /^[^\s"'\\;&|<>()`]*/

/** A key, and perhaps its separator and opening quote, that ends a text: its value may still come on a later line. */
const keyAtEnd = new RegExp(`${tokenKey}\\s*(?:[:=]\\s*${openQuote}\\s*)?$`, "i")

/** The longest key `keyAtEnd` looks for, with its quotes and separator (`"aws_secret_access_key": "`). */
const keyAtEndReach = 48

/**
 * Where to cut `text` at or before `cut` so that a key ending the released part stays held with the
 * lines after it: the token rule allows newlines around the separator, so `password` on one line
 * and `=value` on the next are one secret, which two separate releases would each hide from the writer.
 */
const cutBeforeOpenKey = (text: string, cut: number): number => {
  // Only the whitespace before the cut, one separator and a key word can form such an ending: the
  // regex runs on that short tail, not on all the released text.
  let at = cut
  while (at > 0 && /\s/.test(text.charAt(at - 1))) at -= 1
  const from = Math.max(0, at - keyAtEndReach)
  const open = keyAtEnd.exec(text.slice(from, cut))
  return open === null ? cut : from + open.index
}

/** How much of a value too long to hold is held before it is released redacted. */
const valueHoldLimit = 64 * 1024

/**
 * Holds back the unfinished last line of a stream's output (up to `limit` characters), and an
 * unfinished private key block (up to 64 KiB), so that a secret printed across two reads is seen
 * whole before anything is written (D-13). A line longer than `limit` is released in parts, never
 * cut inside a secret: the cut moves back to the secret's key; a value longer than 64 KiB is
 * released as it is (the writer redacts it whole) and the rest of that value is dropped as it comes.
 */
export const makeLineHolder = (limit: number = 8192) => {
  let held = ""
  let inValue = false
  /** Drops what continues a value already released (redacted) from the head of `text`. */
  const skipValue = (text: string) => {
    if (!inValue) return text
    const run = valueRun.exec(text)?.[0].length ?? 0
    if (run < text.length) inValue = false
    return text.slice(run)
  }
  return {
    /** The text that can be written now. */
    push: (text: string): string => {
      const all = skipValue(held + text)
      let cut = all.lastIndexOf("\n") + 1
      if (all.length - cut > limit) {
        const forced = all.length - limit
        cut = cutOutside(all, forced)
        const straddled = secretRanges(all).find(([start, end]) => start === cut && forced < end)
        if (straddled !== undefined && all.length - cut > valueHoldLimit) {
          // Too long to hold: released up to the forced cut (redacted whole by the writer); the rest
          // of this value, here and in later reads, is dropped.
          cut = forced
          if (straddled[1] < all.length) cut = straddled[1]
          else inValue = true
          held = inValue ? "" : all.slice(cut)
          return all.slice(0, cut)
        }
      }
      const beforeKey = cutBeforeOpenKey(all, cut)
      if (all.length - beforeKey <= limit) cut = beforeKey
      // A key block that has begun but not ended stays held from its header on.
      let open = -1
      for (const match of all.matchAll(keyHeader)) open = match.index
      if (open >= 0 && open < cut && !keyFooter.test(all.slice(open)) && all.length - open <= 64 * 1024) cut = open
      held = all.slice(cut)
      return all.slice(0, cut)
    },
    /** Whatever is still held, at the end of the stream. */
    flush: (): string => {
      const rest = held
      held = ""
      inValue = false
      return rest
    }
  }
}
