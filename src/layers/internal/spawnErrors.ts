/**
 * Why the shell of a stage did not start, in words a user can act on (ProcessRunnerLive): the
 * system's code for it, and for a command line too large, the sizes that made it so.
 */
import { formatBytes } from "../../domain/StageCache.js"
import type { ProcessSpec } from "../../services/ProcessRunner.js"

/**
 * E2BIG: the kernel refused the command line and environment. On Linux one argument or variable may
 * be at most 128 KiB (a long inline script is one argument of `sh -c`) and all of them together are
 * bounded too; the sizes say which one is at fault.
 */
const tooLarge = (spec: ProcessSpec, env: NodeJS.ProcessEnv) => {
  const variables = Object.entries(env).map(([name, value]) => ({ name, bytes: Buffer.byteLength(value ?? "") }))
  const total = variables.reduce((sum, variable) => sum + variable.bytes + variable.name.length + 2, 0)
  const largest = variables.reduce<{ name: string; bytes: number } | undefined>(
    (top, variable) => (top === undefined || variable.bytes > top.bytes ? variable : top),
    undefined
  )
  const sizes = [
    `the command is ${formatBytes(Buffer.byteLength(spec.command))}`,
    `the environment ${formatBytes(total)}`,
    ...(largest === undefined ? [] : [`the largest variable, ${largest.name}, is ${formatBytes(largest.bytes)}`])
  ]
  return `too large to start (E2BIG): ${sizes.join(", ")}. One argument or variable may be at most 128 KiB ` +
    "on Linux: put a long command in a script file and run that, and pass large data in files, not variables"
}

/** Why the shell did not start, in words, with the system's code for it. */
export const describeSpawnError = (error: Error, spec: ProcessSpec, env: NodeJS.ProcessEnv) => {
  const code = "code" in error ? String(error.code) : undefined
  return code === "ENOENT"
    ? "the working directory does not exist (ENOENT)"
    : code === "ENOTDIR" || code === "EACCES"
    ? `the working directory cannot be entered (${code})`
    : code === "E2BIG"
    ? tooLarge(spec, env)
    : error.message
}
