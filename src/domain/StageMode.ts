/**
 * A stage's execution mode as one typed field (DECISIONS D-23): `executionMode: "mcp" | "cloud"`.
 * The original read eight spellings (SPEC CFG-5, PLN-2): `plan.requiresCloud`, `plan.requires_cloud`,
 * `requires_cloud`, `requiresCloud` (booleans), then `plan.executionMode`, `executionMode`,
 * `execution_mode`, `mode` (words). A config file may still use any of them: they are read when the
 * file is decoded, in that order of precedence, and only `executionMode` is left in the decoded stage,
 * so nothing downstream (the planner, the mode policy, an embedder) sees the other spellings.
 */
import { ParseResult, Schema } from "effect"

/** Where a stage runs (MODE-1): `mcp` on this machine, `cloud` on a remote executor (locally, saying why, when none is configured, B-3). */
export const ExecutionMode = Schema.Literal("mcp", "cloud")
export type ExecutionMode = typeof ExecutionMode.Type

const modeWord = (text: string): ExecutionMode | undefined => {
  const word = text.trim().toLowerCase()
  return word === "mcp" || word === "cloud" ? word : undefined
}

/**
 * A mode as a config file writes it (PLN-2: trimmed, any case). Any other word is bad configuration,
 * reported at its field: the original read it as "not cloud" without a word, which hid typos.
 */
export const ModeWord = Schema.transformOrFail(Schema.String, ExecutionMode, {
  strict: true,
  decode: (text, _, ast) => {
    const mode = modeWord(text)
    return mode === undefined
      ? ParseResult.fail(new ParseResult.Type(ast, text, `must be "mcp" or "cloud" (got ${JSON.stringify(text)})`))
      : ParseResult.succeed(mode)
  },
  encode: ParseResult.succeed
})

/** Planner hints (CFG-5) as the decoded stage keeps them: the mode hints are folded into `executionMode`. */
export const PlanHints = Schema.Struct({
  aliases: Schema.optional(Schema.Array(Schema.String)),
  defaultTarget: Schema.optional(Schema.Boolean),
  default: Schema.optional(Schema.Boolean),
  primary: Schema.optional(Schema.Boolean),
  runnable: Schema.optional(Schema.Boolean)
})
export type PlanHints = typeof PlanHints.Type

/** Planner hints as a config file may write them (CFG-5), mode hints included. */
export const PlanHintsFromConfig = Schema.Struct({
  ...PlanHints.fields,
  requiresCloud: Schema.optional(Schema.Boolean),
  requires_cloud: Schema.optional(Schema.Boolean),
  executionMode: Schema.optional(ModeWord)
})
export type PlanHintsFromConfig = typeof PlanHintsFromConfig.Type

/** The stage-level spellings of the mode a config file may use (CFG-5). */
export const ModeSpellings = Schema.Struct({
  plan: Schema.optional(PlanHintsFromConfig),
  requires_cloud: Schema.optional(Schema.Boolean),
  requiresCloud: Schema.optional(Schema.Boolean),
  executionMode: Schema.optional(ModeWord),
  execution_mode: Schema.optional(ModeWord),
  mode: Schema.optional(ModeWord)
})

/** What a decoded stage has in their place. */
export const TypedMode = Schema.Struct({
  plan: Schema.optional(PlanHints),
  executionMode: Schema.optional(ExecutionMode)
})

/** Every spelling of the mode on a stage, each already a valid word. */
export type ModeSpellings = typeof ModeSpellings.Type

/**
 * PLN-2's precedence: the first boolean (`true` is `cloud`, `false` is `mcp`), else the first word;
 * `undefined` when the stage says nothing, so the run's mode applies (D-23).
 */
export const normaliseMode = (stage: ModeSpellings): ExecutionMode | undefined => {
  const flag = stage.plan?.requiresCloud ?? stage.plan?.requires_cloud ?? stage.requires_cloud ?? stage.requiresCloud
  if (flag !== undefined) return flag ? "cloud" : "mcp"
  return stage.plan?.executionMode ?? stage.executionMode ?? stage.execution_mode ?? stage.mode
}

/** The planner hints without their mode hints; `undefined` stays `undefined`. */
export const planHintsOf = (plan: PlanHintsFromConfig | undefined): PlanHints | undefined => {
  if (plan === undefined) return undefined
  const { requiresCloud: _flag, requires_cloud: _snake, executionMode: _mode, ...hints } = plan
  return hints
}

/**
 * The mode part of a stage (command or subpipeline): decoding reads every spelling and leaves
 * `executionMode`; encoding writes `executionMode` only. A stage schema `Schema.extend`s it.
 */
export const StageModeFromConfig = Schema.transform(ModeSpellings, TypedMode, {
  strict: true,
  decode: (stage) => {
    const plan = planHintsOf(stage.plan)
    const executionMode = normaliseMode(stage)
    return { ...(plan === undefined ? {} : { plan }), ...(executionMode === undefined ? {} : { executionMode }) }
  },
  encode: (stage) => stage
})
