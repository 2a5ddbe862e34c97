/**
 * Runs the built CLI in a pseudo-terminal through util-linux `script`, so that stdout and stderr are
 * terminals as they are for a person at one: what the terminal received is read back as text.
 */
import { spawn } from "node:child_process"
import { cliEnv, cliPath } from "./cli.js"

export interface TerminalRun {
  /** Everything written to the terminal so far, escape sequences removed. */
  readonly screen: () => string
  /** Types into the terminal (`\x03` is Ctrl-C). */
  readonly type: (text: string) => void
  /** Resolves once `pattern` appears on the screen (rejects after `ms`). */
  readonly waitFor: (pattern: RegExp, ms?: number) => Promise<void>
  /** The CLI's exit code (script -e passes it on). */
  readonly exit: Promise<number | null>
}

const esc = String.fromCharCode(27)
const bel = String.fromCharCode(7)
// CSI sequences (colours, cursor moves, erases, private modes), OSC titles and charset switches.
const escapes = new RegExp(`${esc}\\[[0-9;?]*[ -/]*[@-~]|${esc}\\][^${bel}]*${bel}|${esc}[()][0-9A-B]`, "g")

/** Without escape sequences and carriage returns. */
export const plainText = (raw: string): string => raw.replace(escapes, "").replace(/\r/g, "")

const quote = (arg: string) => `'${arg.replace(/'/g, "'\\''")}'`

/** Starts `codex-orchestrator <args>` in a `cols`×`rows` terminal in `cwd`, with CI unset and TERM set. */
export const runInTerminal = (
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly cols?: number; readonly rows?: number; readonly env?: Readonly<Record<string, string | undefined>> }
): TerminalRun => {
  const line = `stty cols ${options.cols ?? 160} rows ${options.rows ?? 50}; exec ${quote(process.execPath)} ${quote(cliPath)} ${args.map(quote).join(" ")}`
  const child = spawn("script", ["-q", "-e", "-f", "-c", line, "/dev/null"], {
    cwd: options.cwd,
    env: cliEnv({ CI: undefined, TERM: "xterm-256color", ...options.env }),
    stdio: ["pipe", "pipe", "pipe"]
  })
  let raw = ""
  const waiters: Array<() => void> = []
  child.stdout.on("data", (chunk: Buffer) => {
    raw += chunk.toString("utf8")
    for (const waiter of [...waiters]) waiter()
  })
  child.stderr.on("data", (chunk: Buffer) => {
    raw += chunk.toString("utf8")
  })
  const exit = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (code) => {
      child.stdin.end()
      resolve(code)
    })
  })
  const screen = () => plainText(raw)
  return {
    screen,
    type: (text) => void child.stdin.write(text),
    waitFor: (pattern, ms = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${pattern} did not appear within ${ms} ms; the screen:\n${screen()}`)), ms)
        const check = () => {
          if (!pattern.test(screen())) return
          clearTimeout(timer)
          waiters.splice(waiters.indexOf(check), 1)
          resolve()
        }
        waiters.push(check)
        check()
      }),
    exit
  }
}
