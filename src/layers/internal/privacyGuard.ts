/**
 * The privacy guard on one stage's output (SPEC PRIV-2..4, DECISIONS D-13). It counts every output
 * chunk and records findings; in enforce mode it also holds back each stream's unfinished line so
 * that a secret printed across two reads reaches the (redacting) log writer whole.
 */
import type { PrivacyDecision, PrivacySection } from "../../domain/Manifest.js"
import { makeLineHolder, type PrivacyMode, redact } from "../../domain/Privacy.js"

// Cheap test before the rules run: most output mentions none of these.
const suspicious = /secret|password|api[_-]?key|token|AKIA|PRIVATE KEY/i

type Stream = "stdout" | "stderr"

export const makeStageGuard = (mode: PrivacyMode, stageId: string) => {
  const encoder = new TextEncoder()
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() }
  // Both modes check whole lines (a secret split across reads is found); only enforce writes them so.
  const holders = { stdout: makeLineHolder(), stderr: makeLineHolder() }
  const decisions: Array<PrivacyDecision> = []
  const totals = { total_frames: 0, redacted_frames: 0, blocked_frames: 0, allowed_frames: 0 }
  let lastSequence = 0

  const record = (text: string, sequence: number, timestamp: string) => {
    const findings = suspicious.test(text) ? redact(text).findings : []
    for (const finding of findings) {
      decisions.push({
        stage_id: stageId,
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
     * whole lines it completes, to check.
     */
    release: (stream: Stream, bytes: Uint8Array): { readonly write: Uint8Array | undefined; readonly check: string } => {
      const check = holders[stream].push(decoders[stream].decode(bytes, { stream: true }))
      if (mode === "shadow") return { write: bytes, check }
      return { write: check.length === 0 ? undefined : encoder.encode(check), check }
    },
    /** What is still held at the end of the output, per stream: to write (enforce) and to check. */
    flush: (): ReadonlyArray<readonly [Stream, string]> =>
      (["stdout", "stderr"] as const).flatMap((stream) => {
        const text = holders[stream].flush() + decoders[stream].decode()
        return text.length === 0 ? [] : [[stream, text] as const]
      }),
    /** Counts a chunk about to be written and records what the rules find in the lines it completes. */
    inspect: (check: string, sequence: number, timestamp: string) => {
      lastSequence = sequence
      totals.total_frames += 1
      const findings = record(check, sequence, timestamp)
      if (findings.length === 0 || mode === "shadow") totals.allowed_frames += 1
      else if (findings.some((f) => f.action === "block")) totals.blocked_frames += 1
      else totals.redacted_frames += 1
    },
    /** Shadow mode: the held rest, checked against the last chunk written (nothing more is written). */
    inspectRest: (check: string, timestamp: string) => {
      record(check, lastSequence, timestamp)
    },
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
