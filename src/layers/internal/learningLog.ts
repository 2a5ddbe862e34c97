/**
 * `learning/scenario-validation.log` lines (LRN-6): `[<ts>] <text>`. Command output arrives in
 * chunks that cut lines anywhere, so each stream keeps its unfinished line until the next chunk; an
 * unfinished line is bounded (cut at 64 KiB) so a stream without newlines cannot grow memory.
 */
export const logLine = (timestamp: string, text: string) => `[${timestamp}] ${text}\n`

const carryLimit = 64 * 1024

export interface OutputLines {
  /** The complete lines of this chunk (with what was carried), formatted; may be empty. */
  readonly push: (stream: "stdout" | "stderr", bytes: Uint8Array, timestamp: string) => string
  /** The unfinished lines of both streams, formatted. */
  readonly flush: (timestamp: string) => string
}

export const makeOutputLines = (): OutputLines => {
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() }
  const carried = { stdout: "", stderr: "" }
  return {
    push: (stream, bytes, timestamp) => {
      const text = carried[stream] + decoders[stream].decode(bytes, { stream: true })
      const lines = text.split("\n")
      const rest = lines.pop() ?? ""
      if (rest.length > carryLimit) {
        lines.push(rest)
        carried[stream] = ""
      } else {
        carried[stream] = rest
      }
      return lines.map((line) => logLine(timestamp, line)).join("")
    },
    flush: (timestamp) =>
      (["stdout", "stderr"] as const).map((stream) => {
        const rest = carried[stream] + decoders[stream].decode()
        carried[stream] = ""
        return rest.length === 0 ? "" : logLine(timestamp, rest)
      }).join("")
  }
}
