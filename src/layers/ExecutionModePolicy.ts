import { Layer } from "effect"
import { defaultExecutionMode, type ExecutionMode } from "../domain/ExecutionMode.js"
import { ExecutionModePolicy } from "../services/ExecutionModePolicy.js"

/** MODE-1, the library default. */
export const ExecutionModePolicyDefault = Layer.succeed(ExecutionModePolicy, ExecutionModePolicy.of({ decide: defaultExecutionMode }))

/** Every subtask in one mode, whatever the plan says. */
export const ExecutionModePolicyFixed = (mode: ExecutionMode) =>
  Layer.succeed(ExecutionModePolicy, ExecutionModePolicy.of({ decide: () => mode }))
