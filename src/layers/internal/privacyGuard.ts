/**
 * The privacy guard on one stage's output (SPEC PRIV-2..4, DECISIONS D-13). It counts every output
 * chunk and records findings; in enforce mode it also holds back each stream's unfinished line so
 * that a secret printed across two reads reaches the (redacting) log writer whole.
 */
import type { PrivacyDecision, PrivacySection } from "../../domain/Manifest.js"
import { findSecrets, makeLineHolder, type PrivacyMode, redact } from "../../domain/Privacy.js"

// Cheap test before the rules run: most output mentions none of these.
const suspicious = /secret|passw(?:or)?d|api[_-]?key|token|authorization|:\/\/[^\s@/]*@|AKIA|PRIVATE KEY/i

type Stream = "stdout" | "stderr"

/** Text to check, and where its new part starts (what comes before was checked with the last read). */
interface Check {
  readonly text: string
  readonly from: number
  readonly seam?: { readonly text: string; readonly from: number }
}

const shortDecoder = new TextDecoder()

/**
 * Case variants of a part of the key rule's keywords (secret, password, passwd, api key, token,
 * authorization). A read
 * without any of them cannot hold a key the rules find, except in unusual mixed case.
 */
const keywordAnchors = [
  "ecret",
  "ECRET",
  "assword",
  "ASSWORD",
  "asswd",
  "ASSWD",
  "uthorization",
  "UTHORIZATION",
  "oken",
  "OKEN",
  "pi_key",
  "pi-key",
  "pikey",
  "piKey",
  "pi_Key",
  "PI_KEY",
  "PI-KEY",
  "PIKEY"
]

/**
 * Whether a read may hold what a rule finds, by native byte searches only: a keyword's value follows
 * `:` or `=`, an access key starts with AKIA, a key block with five dashes. The separators are looked
 * for first: output without them (base64, most build logs' progress) skips the fourteen keyword
 * searches, each a pass over the read (issue 19: they were ~18 % of the CPU of 200 MiB of base64).
 */
const mayHoldSecret = (bytes: Uint8Array) => {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (view.includes("AKIA") || view.includes("-----")) return true
  // A URL's password (`scheme://user:password@host`).
  if (view.includes("://") && view.includes("@")) return true
  return (view.includes(":") || view.includes("=")) && keywordAnchors.some((anchor) => view.includes(anchor))
}

/** How much of the previous read shadow mode checks again with the next one, to catch a split secret. */
const overlap = 256

export const makeStageGuard = (mode: PrivacyMode, stageId: string, handleId: string) => {
  const encoder = new TextEncoder()
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() }
  // Enforce writes whole lines, so a secret split across reads is redacted whole. Shadow writes the
  // bytes as they came and only checks them, each read with the end of the previous one.
  const holders = { stdout: makeLineHolder(), stderr: makeLineHolder() }
  const carries = { stdout: "", stderr: "" }
  const decisions: Array<PrivacyDecision> = []
  const totals = { total_frames: 0, redacted_frames: 0, blocked_frames: 0, allowed_frames: 0 }

  const record = (check: Check, sequence: number, timestamp: string) => {
    const inRead = suspicious.test(check.text) ? findSecrets(check.text, check.from) : []
    // Secrets across the seam: those that start in the previous read and end in this one.
    const acrossSeam = check.seam !== undefined && suspicious.test(check.seam.text)
      ? findSecrets(check.seam.text, check.seam.from, check.seam.from)
      : []
    const findings = [...inRead, ...acrossSeam]
    for (const finding of findings) {
      decisions.push({
        stage_id: stageId,
        handle_id: handleId,
        sequence,
        // PRIV-3: shadow mode changes nothing; what would have happened is kept in rule and reason.
        action: mode === "shadow" ? "allow" : finding.action,
        rule: finding.rule,
        reason: mode === "shadow" ? "shadow-mode" : finding.reason,
        timestamp
      })
    }
    return findings
  }

  return {
    /**
     * This read's bytes to write now (enforce: complete lines only, undefined when none) and the
     * text to check for it.
     */
    release: (stream: Stream, bytes: Uint8Array): { readonly write: Uint8Array | undefined; readonly check: Check } => {
      if (mode === "shadow") {
        // The read is decoded only when a native byte search finds a hint of a secret in it: decoding
        // every read would make strings of all the output, and memory follows that garbage (D-11).
        const carry = carries[stream]
        const head = shortDecoder.decode(bytes.subarray(0, overlap))
        carries[stream] = (bytes.length >= overlap ? shortDecoder.decode(bytes.subarray(bytes.length - overlap)) : carry + head)
          .slice(-overlap)
        const seam = { text: carry + head, from: carry.length }
        const text = mayHoldSecret(bytes) ? decoders[stream].decode(bytes, { stream: true }) : ""
        return { write: bytes, check: { text, from: 0, seam } }
      }
      const text = decoders[stream].decode(bytes, { stream: true })
      const lines = holders[stream].push(text)
      return { write: lines.length === 0 ? undefined : encoder.encode(lines), check: { text: lines, from: 0 } }
    },
    /** What is still held at the end of the output (enforce), per stream, to write and check. */
    flush: (): ReadonlyArray<readonly [Stream, string]> =>
      mode === "shadow"
        ? []
        : (["stdout", "stderr"] as const).flatMap((stream) => {
          const text = holders[stream].flush() + decoders[stream].decode()
          return text.length === 0 ? [] : [[stream, text] as const]
        }),
    /** Counts a chunk about to be written and records what the rules find in the lines it completes. */
    inspect: (check: Check, sequence: number, timestamp: string) => {
      totals.total_frames += 1
      const findings = record(check, sequence, timestamp)
      if (findings.length === 0 || mode === "shadow") totals.allowed_frames += 1
      else if (findings.some((f) => f.action === "block")) totals.blocked_frames += 1
      else totals.redacted_frames += 1
    },
    /** The chunks redacted and blocked so far (enforce mode; shadow mode counts them allowed). */
    caught: () => ({ redactedFrames: totals.redacted_frames, blockedFrames: totals.blocked_frames }),
    /** How a text is shown on the console: redacted in enforce mode (D-13 covers logs). */
    shown: (text: string) => (mode === "enforce" ? redact(text).text : text),
    decisions: (): ReadonlyArray<PrivacyDecision> => decisions,
    /** This stage's findings merged into the manifest's privacy section (the latest 50 kept, D-12). */
    mergeInto: (section: PrivacySection | undefined, logPath: string): PrivacySection => ({
      mode,
      decisions: [...(section?.decisions ?? []), ...decisions].slice(-50),
      totals: {
        total_frames: (section?.totals.total_frames ?? 0) + totals.total_frames,
        redacted_frames: (section?.totals.redacted_frames ?? 0) + totals.redacted_frames,
        blocked_frames: (section?.totals.blocked_frames ?? 0) + totals.blocked_frames,
        allowed_frames: (section?.totals.allowed_frames ?? 0) + totals.allowed_frames
      },
      log_path: logPath
    })
  }
}
