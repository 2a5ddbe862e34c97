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
  readonly pattern: string
  readonly flags: string
}

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
    // An opening quote (also JSON-escaped) is part of the match: `API_KEY="abc…"` is caught too.
    pattern: "(?:secret|password|api[_-]?key|token)\\s*[:=]\\s*(?:\\\\?[\"'])?[^\\s\"'\\\\]{6,}",
    flags: "gi"
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
const defaultCompiled = compiled(privacyRules)

/** Every secret in `text`, and the text with each replaced by `[REDACTED]`. */
export const redact = (
  text: string,
  rules: ReadonlyArray<PrivacyRule> = privacyRules
): { readonly text: string; readonly findings: ReadonlyArray<PrivacyFinding> } => {
  const findings: Array<PrivacyFinding> = []
  let result = text
  for (const { regex, rule } of rules === privacyRules ? defaultCompiled : compiled(rules)) {
    result = result.replace(regex, () => {
      findings.push({ rule: rule.id, action: rule.action, reason: rule.reason })
      return redactedMarker
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
    [...text.matchAll(regex)]
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

/**
 * Holds back the unfinished last line of a stream's output (up to `limit` characters), and an
 * unfinished private key block (up to 64 KiB), so that a secret printed across two reads is seen
 * whole before anything is written (D-13).
 */
export const makeLineHolder = (limit: number = 8192) => {
  let held = ""
  return {
    /** The text that can be written now. */
    push: (text: string): string => {
      const all = held + text
      let cut = all.lastIndexOf("\n") + 1
      if (all.length - cut > limit) cut = all.length - limit
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
      return rest
    }
  }
}
