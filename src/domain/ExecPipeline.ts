/**
 * `exec` (SPEC EXEC-2): one command given as an argument vector, run as a one-stage pipeline, so it
 * gets everything a pipeline run gets (manifest, logs, privacy guard, metrics, learning, events).
 */
import type { PipelineDefinition } from "./Pipeline.js"
import { oneLine, shortened } from "./OneLine.js"
import { shellCommand } from "./Shell.js"

/** The pipeline and stage id `exec` runs under, as the original names them. */
export const execPipelineId = "exec"
export const execStageId = "exec"

/** The one-stage pipeline that runs exactly `argv` (quoted for the shell), in `cwd` when given. */
export const execPipeline = (argv: ReadonlyArray<string>, cwd: string | undefined): PipelineDefinition => {
  const command = shellCommand(argv)
  return {
    id: execPipelineId,
    title: "CLI Exec Command",
    // A single ad-hoc command has no guardrail stage to require.
    guardrailsRequired: false,
    // A title is one line (CFG-3); the command keeps its lines.
    stages: [{ kind: "command", id: execStageId, title: `Execute ${oneLine(command)}`, command, ...(cwd === undefined ? {} : { cwd }) }]
  }
}

const example = "as in 'codex-orchestrator exec -- ls -la'"

/**
 * Why `argv` is not a command `exec` can run (EXEC-1, a usage error), or undefined: none given, an
 * empty or blank program name (the shell would only answer 127), a word with a NUL byte (no process
 * can be given one). Each reason says the fix.
 */
export const execCommandProblem = (argv: ReadonlyArray<string>): string | undefined => {
  const [program] = argv
  if (program === undefined) return `exec requires a command to run: give it after the options, ${example}.`
  if (program.trim().length === 0) return `exec's command is empty; give the program to run first, ${example}.`
  const at = argv.findIndex((word) => word.includes("\u0000"))
  if (at < 0) return undefined
  return `exec's command word ${at + 1} ('${oneLine(shortened(argv[at] ?? "", 60))}') contains a NUL byte, which no program can be given; remove it.`
}
