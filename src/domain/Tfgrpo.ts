/**
 * TF-GRPO context, tool metrics and experiences (SPEC TFG-1..4, PER-4, MET-1), applied to the command
 * stages of `start`/`resume` runs: the manifest's `tfgrpo` section, the experience records of
 * `<out>/<task>/experiences.jsonl`, and the formatted top experiences a prompt pack is given.
 * Everything here is pure; the store and the run wire it up.
 */
import { Either, Schema } from "effect"

// ---------------------------------------------------------------------------------------------
// Context (TFG-1)
// ---------------------------------------------------------------------------------------------

/** TFG-1: the run's place in a TF-GRPO experiment. A value not given is null. */
export interface TfgrpoContext {
  readonly epoch: number | null
  readonly groupId: string | null
  readonly groupSize: number | null
}

/** TFG-1's settings, decoded (src/domain/Settings.ts's `tfgrpo` section); unset is undefined. */
export interface TfgrpoEnv {
  readonly epoch: number | undefined
  readonly groupId: string | undefined
  /** `TFGRPO_GROUP_SIZE`, as the control plane resolved it for CP-3. */
  readonly groupSize: number | undefined
}

/**
 * TFG-1: the context when any setting is given, else undefined. A resumed run keeps what its manifest
 * recorded for every setting no longer given, so resuming without the environment stays in the same
 * experiment. The settings were checked when decoded, so this cannot fail; it stays an Either for
 * the callers that `yield*` it.
 */
export const tfgrpoContextOf = (
  env: TfgrpoEnv,
  recorded?: TfgrpoSection | null
): Either.Either<TfgrpoContext | undefined> => {
  const groupId = env.groupId?.trim() === "" ? undefined : env.groupId?.trim()
  const anySet = env.epoch !== undefined || groupId !== undefined || env.groupSize !== undefined
  if (!anySet && (recorded === undefined || recorded === null)) return Either.right(undefined)
  return Either.right({
    epoch: env.epoch ?? recorded?.epoch ?? null,
    groupId: groupId ?? recorded?.group_id ?? null,
    groupSize: env.groupSize ?? recorded?.group_size ?? null
  })
}

// ---------------------------------------------------------------------------------------------
// Tool metrics (TFG-2)
// ---------------------------------------------------------------------------------------------

/** TFG-2: what one command stage (a tool call) cost. The tool is the stage id. */
export const ToolMetric = Schema.Struct({
  tool: Schema.String,
  /** Whitespace-separated words of the stage's stdout (its last attempt). */
  tokens: Schema.Int,
  costUsd: Schema.Number,
  latencyMs: Schema.Number,
  attempts: Schema.Int,
  status: Schema.String,
  sandboxState: Schema.String
})
export type ToolMetric = typeof ToolMetric.Type

export const ToolMetrics = Schema.Struct({
  tool_calls: Schema.Int,
  token_total: Schema.Int,
  cost_usd: Schema.Number,
  latency_ms: Schema.Number,
  per_tool: Schema.Array(ToolMetric)
})
export type ToolMetrics = typeof ToolMetrics.Type

/** TFG-3: the experiences a run wrote to the task's experiences.jsonl. */
export const ExperiencesRecord = Schema.Struct({
  ids: Schema.Array(Schema.String),
  written: Schema.Int,
  /** Repo-relative path of the run manifest the experiences point back to. */
  manifest_path: Schema.String
})
export type ExperiencesRecord = typeof ExperiencesRecord.Type

/** TFG-2: the manifest's `tfgrpo` section (MAN-3: null when TF-GRPO is not active). */
export const TfgrpoSection = Schema.Struct({
  epoch: Schema.NullOr(Schema.Int),
  group_id: Schema.NullOr(Schema.String),
  group_size: Schema.NullOr(Schema.Int),
  tool_metrics: ToolMetrics,
  /** Null until the run wrote (or tried to write) an experience. */
  experiences: Schema.NullOr(ExperiencesRecord)
})
export type TfgrpoSection = typeof TfgrpoSection.Type

/** TFG-2: 0.000002 USD a token. */
export const costPerToken = 0.000002

const round = (value: number, digits: number) => Number(value.toFixed(digits))

/** TFG-2: tokens × 0.000002, to 6 decimal places. */
export const costUsdOf = (tokens: number): number => round(tokens * costPerToken, 6)

/** TFG-2's totals over the per-tool metrics. */
export const toolMetricsOf = (perTool: ReadonlyArray<ToolMetric>): ToolMetrics => ({
  tool_calls: perTool.length,
  token_total: perTool.reduce((total, metric) => total + metric.tokens, 0),
  cost_usd: round(perTool.reduce((total, metric) => total + metric.costUsd, 0), 6),
  latency_ms: perTool.reduce((total, metric) => total + metric.latencyMs, 0),
  per_tool: [...perTool]
})

export const initialTfgrpoSection = (context: TfgrpoContext): TfgrpoSection => ({
  epoch: context.epoch,
  group_id: context.groupId,
  group_size: context.groupSize,
  tool_metrics: toolMetricsOf([]),
  experiences: null
})

/**
 * A resumed run's section: the context as resolved now, the recorded metrics and experiences kept
 * (stages that do not re-run keep their metric).
 */
export const resumedTfgrpoSection = (recorded: TfgrpoSection | null | undefined, context: TfgrpoContext): TfgrpoSection => ({
  ...(recorded ?? initialTfgrpoSection(context)),
  epoch: context.epoch,
  group_id: context.groupId,
  group_size: context.groupSize
})

/** One metric per tool: a stage that ran again (resume) replaces its metric in place; a new one is added. */
export const withToolMetric = (section: TfgrpoSection, metric: ToolMetric): TfgrpoSection => {
  const known = section.tool_metrics.per_tool.some((m) => m.tool === metric.tool)
  const perTool = known
    ? section.tool_metrics.per_tool.map((m) => (m.tool === metric.tool ? metric : m))
    : [...section.tool_metrics.per_tool, metric]
  return { ...section, tool_metrics: toolMetricsOf(perTool) }
}

/** TFG-3: adds what one experience write did to the section's `experiences`. */
export const withExperiences = (
  section: TfgrpoSection,
  written: ReadonlyArray<string>,
  manifestPath: string
): TfgrpoSection => ({
  ...section,
  experiences: {
    ids: [...(section.experiences?.ids ?? []), ...written],
    written: (section.experiences?.written ?? 0) + written.length,
    manifest_path: manifestPath
  }
})

// ---------------------------------------------------------------------------------------------
// Reading stdout while it streams (TFG-2 tokens, TFG-3 summary)
// ---------------------------------------------------------------------------------------------

/** How much of the start of stdout is kept for the experience summary: two lines are enough. */
export const stdoutHeadLimitBytes = 4096

/** The non-blank lines of a text, trimmed, at most `count`. */
const firstLines = (text: string, count: number): ReadonlyArray<string> =>
  text.split("\n").map((line) => line.trim()).filter((line) => line.length > 0).slice(0, count)

/**
 * Counts the whitespace-separated words of a byte stream as it passes (a word split across two
 * chunks counts once) and keeps its first two non-blank lines; nothing else of the output is kept.
 * Whitespace is ASCII whitespace (space, tab, line breaks, vertical tab, form feed).
 */
export const makeStdoutObserver = () => {
  let words = 0
  let inWord = false
  const decoder = new TextDecoder()
  let head = ""
  let headBytes = 0
  let headDone = false
  return {
    push: (bytes: Uint8Array): void => {
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i] ?? 0
        if (b === 32 || (b >= 9 && b <= 13)) {
          inWord = false
        } else if (!inWord) {
          inWord = true
          words += 1
        }
      }
      if (headDone) return
      const take = bytes.subarray(0, Math.max(0, stdoutHeadLimitBytes - headBytes))
      headBytes += take.length
      head += decoder.decode(take, { stream: true })
      const complete = head.slice(0, Math.max(0, head.lastIndexOf("\n")))
      headDone = headBytes >= stdoutHeadLimitBytes || firstLines(complete, 2).length >= 2
    },
    tokens: (): number => words,
    /** The first two non-blank lines, trimmed (an unfinished last line counts once the stream ends). */
    head: (): ReadonlyArray<string> => firstLines(head, 2)
  }
}
export type StdoutObserver = ReturnType<typeof makeStdoutObserver>

/** The first `max` whitespace-separated words of `text`, joined by single spaces. */
export const limitWords = (text: string, max: number): string =>
  text.split(/\s+/).filter((word) => word.length > 0).slice(0, max).join(" ")

// ---------------------------------------------------------------------------------------------
// Experiences (TFG-3, TFG-4)
// ---------------------------------------------------------------------------------------------

export const ExperienceReward = Schema.Struct({
  gtScore: Schema.Number,
  relativeRank: Schema.Number
})

/** TFG-3: one line of `<out>/<task>/experiences.jsonl`. */
export const Experience = Schema.Struct({
  id: Schema.String,
  runId: Schema.String,
  taskId: Schema.String,
  epoch: Schema.NullOr(Schema.Number),
  groupId: Schema.NullOr(Schema.String),
  /** The first two stdout lines, limited to TFGRPO_EXPERIENCE_MAX_WORDS words. */
  summary32: Schema.String,
  reward: ExperienceReward,
  toolStats: Schema.Array(ToolMetric),
  /** The stamp (SHA-256 hex) of the prompt pack the run was prepared with. */
  stampSignature: Schema.String,
  domain: Schema.String,
  createdAt: Schema.String,
  /** Repo-relative path of the run's manifest. */
  manifestPath: Schema.String
})
export type Experience = typeof Experience.Type

/** TFG-3: `exp-<epoch ms in base 36>-<6 hex>`. */
export const experienceIdOf = (epochMs: number, hex6: string) => `exp-${epochMs.toString(36)}-${hex6}`

export interface ExperienceInput {
  readonly id: string
  readonly runId: string
  readonly taskId: string
  readonly context: TfgrpoContext
  /** The run's stdout, first lines first (see makeStdoutObserver). */
  readonly stdoutLines: ReadonlyArray<string>
  readonly maxWords: number
  readonly toolStats: ReadonlyArray<ToolMetric>
  readonly pack: { readonly domain: string; readonly stamp: string }
  readonly createdAt: string
  readonly manifestPath: string
}

/** TFG-3: the experience of a run; its reward starts at zero until something grades it. */
export const experienceOf = (input: ExperienceInput): Experience => ({
  id: input.id,
  runId: input.runId,
  taskId: input.taskId,
  epoch: input.context.epoch,
  groupId: input.context.groupId,
  summary32: limitWords(input.stdoutLines.slice(0, 2).join(" "), input.maxWords),
  reward: { gtScore: 0, relativeRank: 0 },
  toolStats: [...input.toolStats],
  stampSignature: input.pack.stamp,
  domain: input.pack.domain,
  createdAt: input.createdAt,
  manifestPath: input.manifestPath
})

/** TFG-3: a run writes an experience when TF-GRPO is active and its first pack has a domain and a stamp. */
export const experiencePackOf = (
  packs: ReadonlyArray<{ readonly domain: string; readonly stamp: string }>
): { readonly domain: string; readonly stamp: string } | undefined => {
  const first = packs[0]
  return first !== undefined && first.domain.length > 0 && first.stamp.length > 0 ? first : undefined
}

/** TFG-4: an experience's score. */
export const experienceScore = (experience: Experience): number => experience.reward.gtScore + experience.reward.relativeRank

/**
 * TFG-4 order: higher score first, then newer first. `a` is the one read later from the file, so on
 * a tie of both it goes first too (it was appended after `b`).
 */
const ranksBefore = (a: Experience, b: Experience): boolean => {
  const byScore = experienceScore(a) - experienceScore(b)
  return byScore !== 0 ? byScore > 0 : a.createdAt >= b.createdAt
}

export interface TopQuery {
  readonly taskId: string
  readonly domain: string
  readonly limit: number
}

/**
 * TFG-4, one experience at a time (the file is streamed, never held): the best `limit` of the same
 * domain and task, in order. Feed experiences in file order.
 */
export const insertTop = (
  top: ReadonlyArray<Experience>,
  experience: Experience,
  query: TopQuery
): ReadonlyArray<Experience> => {
  if (query.limit <= 0 || experience.domain !== query.domain || experience.taskId !== query.taskId) return top
  const at = top.findIndex((kept) => ranksBefore(experience, kept))
  const next = at < 0 ? [...top, experience] : [...top.slice(0, at), experience, ...top.slice(at)]
  return next.slice(0, query.limit)
}

/** TFG-4: `[exp <id> | epoch <e|n/a> | reward <2dp>] <summary32> (stats: <tool>: <tokens>t/<3dp>usd/<ms>ms; ...)`. */
export const formatExperience = (experience: Experience, maxWords: number): string => {
  const stats = experience.toolStats.length === 0
    ? "none"
    : experience.toolStats.map((s) => `${s.tool}: ${s.tokens}t/${s.costUsd.toFixed(3)}usd/${s.latencyMs}ms`).join("; ")
  const epoch = experience.epoch === null ? "n/a" : String(experience.epoch)
  const summary = limitWords(experience.summary32, maxWords)
  return [`[exp ${experience.id} | epoch ${epoch} | reward ${experienceScore(experience).toFixed(2)}]`, summary, `(stats: ${stats})`]
    .filter((part) => part.length > 0)
    .join(" ")
}
