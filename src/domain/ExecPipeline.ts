/**
 * `exec` (SPEC EXEC-2): one command given as an argument vector, run as a one-stage pipeline, so it
 * gets everything a pipeline run gets (manifest, logs, privacy guard, metrics, learning, events).
 */
import type { PipelineDefinition } from "./Pipeline.js"
import { oneLine } from "./OneLine.js"
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
