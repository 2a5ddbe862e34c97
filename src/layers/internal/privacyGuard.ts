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
  const holders = { stdout: makeLineHolder(), stderr: makeLineHolder() }
  const decisions: Array<PrivacyDecision> = []
  const totals = { total_frames: 0, redacted_frames: 0, blocked_frames: 0, allowed_frames: 0 }

  return {
    /** The bytes to write now for this read (enforce: complete lines only; undefined when none). */
    release: (stream: Stream, bytes: Uint8Array): Uint8Array | undefined => {
      if (mode === "shadow") return bytes
      const text = holders[stream].push(decoders[stream].decode(bytes, { stream: true }))
      return text.length === 0 ? undefined : encoder.encode(text)
    },
    /** What is still held at the end of the output, per stream. */
    flush: (): ReadonlyArray<readonly [Stream, Uint8Array]> =>
      mode === "shadow"
        ? []
        : (["stdout", "stderr"] as const).flatMap((stream) => {
          const text = holders[stream].flush() + decoders[stream].decode()
          return text.length === 0 ? [] : [[stream, encoder.encode(text)] as const]
        }),
    /** Counts a chunk about to be written and records what the rules find in it. */
    inspect: (bytes: Uint8Array, sequence: number, timestamp: string) => {
      totals.total_frames += 1
      const text = new TextDecoder().decode(bytes)
      const findings = suspicious.test(text) ? redact(text).findings : []
      if (findings.length === 0 || mode === "shadow") totals.allowed_frames += 1
      else if (findings.some((f) => f.action === "block")) totals.blocked_frames += 1
      else totals.redacted_frames += 1
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
    },
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
