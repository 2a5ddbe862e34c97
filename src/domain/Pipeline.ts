/**
 * Pipeline definitions (SPEC CFG-1..5) as schemas, and the pure rules that resolve a pipeline id
 * to a definition (CFG-8, CFG-9) and check nested pipelines before anything runs.
 */
import { Schema } from "effect"
import { NotifyTarget } from "./Notify.js"
import { RetryPolicy } from "./Retry.js"
import { graphIssues } from "./StageGraph.js"
import { Label, maxRunnerLabels } from "./Cluster.js"
import { hasControlCharacter, oneLine } from "./OneLine.js"
import { StageModeFromConfig } from "./StageMode.js"
import { CacheSpec } from "./StageCache.js"

const NonEmpty = Schema.String.pipe(Schema.minLength(1, { message: () => "must be a non-empty string" }))

/**
 * What reaches a process (command, cwd, environment): a NUL byte cannot be passed to one, so it is bad
 * configuration found when the file is read, not a stage that fails to start (issue 16 item 16).
 */
const ProcessText = Schema.String.pipe(
  Schema.filter((text) => !text.includes("\u0000"), {
    message: () => "must not contain a NUL byte (\\u0000); remove it, a process cannot receive one"
  })
)

/**
 * A stage's environment. A variable's name reaches a process as `NAME=value`, so a name holding `=`
 * would be read as another name with another value, and an empty one as nothing. (A refined key
 * schema would drop such a name without a word: a record's keys are filtered, not checked.)
 */
const Environment = Schema.Record({ key: Schema.String, value: ProcessText }).pipe(
  Schema.filter((env) =>
    Object.keys(env)
      .filter((name) => name.length === 0 || name.includes("=") || name.includes("\u0000"))
      .map((name) => ({ path: [name], message: "must be a variable name: not empty, without '=' or a NUL byte" })))
)

/** A title as lists print it, one line per stage: a line break would split it, an escape sequence repaint a terminal. */
const Title = Schema.String.pipe(
  Schema.filter((text) => !hasControlCharacter(text), {
    message: () => "must be one line: no line breaks or control characters"
  })
)

/** Planner hints (CFG-5) as a decoded stage has them; the mode hints are read into `executionMode` (D-23). */
export { PlanHints } from "./StageMode.js"

/** A command stage's `session` (EXE-3): its own session id, kept and reused when `persist` or `reuse` is set; without an id the session is ephemeral. */
export const StageSession = Schema.Struct({
  id: Schema.optional(Schema.String),
  reuse: Schema.optional(Schema.Boolean),
  persist: Schema.optional(Schema.Boolean)
})

const PositiveInt = Schema.Int.pipe(Schema.positive({ message: () => "must be a positive integer (milliseconds)" }))

/** An exit code a command can choose to mean "nothing to do here" (1-255; 78, EX_CONFIG, by convention). */
const SkipExitCode = Schema.Int.pipe(Schema.between(1, 255, { message: () => "must be an exit code from 1 to 255 (78 by convention)" }))

/** B-2: the stages a stage waits for (ids in the same pipeline); once any stage has it, the pipeline is a graph. */
const Needs = Schema.Array(NonEmpty)
/** B-2: stages sharing a lock name never run at the same time. */
const Lock = NonEmpty

/** B-3: the labels a runner must have; more than a runner can hold (`runner --labels`) would never be served. */
const RunsOn = Schema.Array(Label).pipe(
  Schema.filter((labels) => new Set(labels).size <= maxRunnerLabels, {
    message: (issue) =>
      `lists ${Array.isArray(issue.actual) ? new Set(issue.actual).size : "too many"} labels, and a runner holds at most ${maxRunnerLabels} ` +
      `(runner --labels): no runner could take this stage; list at most ${maxRunnerLabels}`
  })
)

/**
 * A shell command stage (CFG-3), plus `timeoutMs` (DECISIONS D-8). Where it runs is one typed field,
 * `executionMode` (D-23); a config file's other spellings of it are normalised when it is decoded.
 */
export const CommandStage = Schema.extend(Schema.Struct({
  kind: Schema.Literal("command"),
  id: NonEmpty,
  title: Title,
  command: Schema.compose(NonEmpty, ProcessText),
  cwd: Schema.optional(ProcessText),
  env: Schema.optional(Environment),
  allowFailure: Schema.optional(Schema.Boolean),
  /**
   * The command exits with this code when it has nothing to do (an npm script the package lacks): the
   * entry is recorded `skipped` with its output as summary, no error file, and the run goes on.
   */
  skipExitCode: Schema.optional(SkipExitCode),
  summaryHint: Schema.optional(Schema.String),
  timeoutMs: Schema.optional(PositiveInt),
  /** DECISIONS B-1: attempts with exponential backoff. */
  retry: Schema.optional(RetryPolicy),
  /** DECISIONS D-14: the stage runs only once approved; grants are cached under `approvalKey`. */
  approvalRequired: Schema.optional(Schema.Boolean),
  approvalKey: Schema.optional(Schema.String),
  session: Schema.optional(StageSession),
  needs: Schema.optional(Needs),
  lock: Schema.optional(Lock),
  /** Issue 18: in `cloud` mode, only runners that have all these labels run the stage. */
  runsOn: Schema.optional(RunsOn),
  /** DECISIONS B-5: a hit on the same command, folder, env and inputs replays the stored result instead of running. */
  cache: Schema.optional(CacheSpec)
}), StageModeFromConfig)
export type CommandStage = typeof CommandStage.Type

/** A stage that runs another pipeline as a child run (CFG-4); its mode is read as a command stage's. */
export const SubpipelineStage = Schema.extend(Schema.Struct({
  kind: Schema.Literal("subpipeline"),
  id: NonEmpty,
  title: Title,
  pipeline: NonEmpty,
  optional: Schema.optional(Schema.Boolean),
  needs: Schema.optional(Needs),
  lock: Schema.optional(Lock)
}), StageModeFromConfig)
export type SubpipelineStage = typeof SubpipelineStage.Type

/** A pipeline stage: a shell command (CFG-3) or a nested pipeline (CFG-4), told apart by `kind`. */
export const Stage = Schema.Union(CommandStage, SubpipelineStage)
export type Stage = typeof Stage.Type

/** One issue per item whose `id` an earlier item already has, pointing at both positions. */
const duplicateIdIssues = (
  items: ReadonlyArray<{ readonly id: string }>,
  path: ReadonlyArray<string>,
  what: "stage" | "pipeline"
): Array<Schema.FilterIssue> => {
  const firstIndex = new Map<string, number>()
  const issues: Array<Schema.FilterIssue> = []
  items.forEach((item, index) => {
    const first = firstIndex.get(item.id)
    if (first === undefined) firstIndex.set(item.id, index)
    else {
      issues.push({
        path: [...path, index, "id"],
        message: `duplicate ${what} id "${item.id}" (also ${path.join(".")}.${first}.id); ${what} ids must be unique`
      })
    }
  })
  return issues
}

/** A pipeline's id: `start <id>` and `plan <id>` name it, so it cannot look like an option. */
const PipelineId = NonEmpty.pipe(
  Schema.filter((id) => !id.startsWith("-"), {
    message: (issue) =>
      `must not start with '-' (${JSON.stringify(issue.actual)}): the command line would read it as an option; rename the pipeline`
  })
)

/** A pipeline (CFG-2). Stage ids must be unique: they name log files and `--target`s. */
export const PipelineDefinition = Schema.Struct({
  id: PipelineId,
  title: Title,
  description: Schema.optional(Schema.String),
  tags: Schema.optional(Schema.Array(Schema.String)),
  guardrailsRequired: Schema.optional(Schema.Boolean),
  stages: Schema.Array(Stage).pipe(Schema.minItems(1, { message: () => "must list at least one stage" })),
  /** B-2: at most this many stages at once (default: the CPUs for a graph, 1 for a serial pipeline); --concurrency wins. */
  concurrency: Schema.optional(Schema.Int.pipe(Schema.positive({ message: () => "must be a positive integer (stages at once)" }))),
  /** B-2: the first failure cancels the stages still running; --fail-fast sets it too. */
  failFast: Schema.optional(Schema.Boolean)
}).pipe(
  Schema.filter((pipeline) => [
    ...duplicateIdIssues(pipeline.stages, ["stages"], "stage"),
    ...graphIssues(pipeline.stages).map((issue) => ({ path: ["stages", issue.position, "needs"], message: issue.message }))
  ])
)
export type PipelineDefinition = typeof PipelineDefinition.Type

/** `codex.orchestrator.json` (CFG-1). Pipeline ids must be unique: a second one could never be run. */
export const PipelineConfigFile = Schema.Struct({
  pipelines: Schema.Array(PipelineDefinition),
  defaultPipeline: Schema.optional(Schema.String),
  /** EXEC-4: where a run's summary is POSTed when neither `--notify` nor CODEX_ORCHESTRATOR_NOTIFY names a target. */
  notify: Schema.optional(Schema.Array(NotifyTarget))
}).pipe(
  Schema.filter((config) => duplicateIdIssues(config.pipelines, ["pipelines"], "pipeline"))
)
export type PipelineConfigFile = typeof PipelineConfigFile.Type

/** The user's pipeline file, at the repository root (CFG-1). */
export const configFileName = "codex.orchestrator.json"

/** Where a resolved pipeline came from: the user's `codex.orchestrator.json`, the built-ins, or the request itself. */
export type PipelineSource = "user" | "default" | "inline"

/** What the catalog holds: the repository's pipelines (if the file exists) and the built-ins. */
export interface PipelineCatalogData {
  readonly configPath: string
  readonly configFound: boolean
  readonly user: ReadonlyArray<PipelineDefinition>
  readonly defaultPipeline: string | undefined
  readonly builtins: ReadonlyArray<PipelineDefinition>
  /** DES-2: the design pipeline the environment or design.config.yaml activates, run when no id is given (CFG-9). */
  readonly designPipeline?: string | undefined
  /** EXEC-4: the config file's `notify` targets (what `notifyTargets` answers in memory). */
  readonly notify?: ReadonlyArray<string> | undefined
}

/** A pipeline found by id (CFG-8), and where it came from. */
export interface ResolvedPipeline {
  readonly pipeline: PipelineDefinition
  readonly source: PipelineSource
}

/** A pipeline id (asked for, `defaultPipeline`, or a nested stage's) that neither the user's file nor the built-ins define. */
export class PipelineNotFound extends Schema.TaggedError<PipelineNotFound>()("PipelineNotFound", {
  pipelineId: Schema.String,
  configPath: Schema.String,
  configFound: Schema.Boolean,
  available: Schema.Array(Schema.String),
  referencedBy: Schema.optional(Schema.String)
}) {
  override get message() {
    const where = this.referencedBy === undefined ? "" : ` (named by ${this.referencedBy})`
    // `plan ''`: no pipeline is named '', and saying it was looked for hides the mistake.
    if (this.pipelineId.trim().length === 0) {
      return `The pipeline id is ${this.pipelineId.length === 0 ? "empty" : "blank"}${where}: name one of the pipelines (${this.available.join(", ")}).`
    }
    const config = this.configFound
      ? `it is neither in ${this.configPath} nor built in`
      : `there is no ${this.configPath}, and no built-in pipeline has that id`
    return `Pipeline '${oneLine(this.pipelineId)}' not found${where}: ${config}. Available pipelines: ${this.available.join(", ")}.`
  }
}

/** A subpipeline stage that runs, directly or through others, a pipeline containing it; `chain` is the path of pipeline ids. */
export class PipelineCycle extends Schema.TaggedError<PipelineCycle>()("PipelineCycle", {
  chain: Schema.Array(Schema.String)
}) {
  override get message() {
    return `Pipeline cycle: ${this.chain.join(" -> ")}. A subpipeline stage may not run a pipeline that contains it; remove or rename the nested stage.`
  }
}

/** Every pipeline id a user can name, user first, without duplicates. */
export const availablePipelineIds = (catalog: PipelineCatalogData): ReadonlyArray<string> =>
  [...new Set([...catalog.user.map((p) => p.id), ...catalog.builtins.map((p) => p.id)])]

/** CFG-8: user config first (first matching id), then built-ins. */
export const findPipeline = (catalog: PipelineCatalogData, id: string): ResolvedPipeline | undefined => {
  const user = catalog.user.find((p) => p.id === id)
  if (user !== undefined) return { pipeline: user, source: "user" }
  const builtin = catalog.builtins.find((p) => p.id === id)
  return builtin === undefined ? undefined : { pipeline: builtin, source: "default" }
}

const notFound = (catalog: PipelineCatalogData, id: string, referencedBy?: string) =>
  new PipelineNotFound({
    pipelineId: id,
    configPath: catalog.configPath,
    configFound: catalog.configFound,
    available: availablePipelineIds(catalog),
    ...(referencedBy === undefined ? {} : { referencedBy })
  })

/** The pipeline run when none is named and there is no `defaultPipeline` (CFG-9). */
export const fallbackPipelineId = "diagnostics"

/**
 * CFG-8 / CFG-9: an explicit id must exist; without one, the active design pipeline (DES-2) when
 * the user's file or the built-ins have it, else `defaultPipeline`, which must exist too
 * (DECISIONS D-19: no silent fall-back), else `diagnostics`, the user's first, then the built-in.
 */
export const resolvePipeline = (
  catalog: PipelineCatalogData,
  requested: string | undefined
): ResolvedPipeline | PipelineNotFound => {
  if (requested !== undefined) return findPipeline(catalog, requested) ?? notFound(catalog, requested)
  const design = catalog.designPipeline === undefined ? undefined : findPipeline(catalog, catalog.designPipeline)
  if (design !== undefined) return design
  if (catalog.defaultPipeline !== undefined) {
    return findPipeline(catalog, catalog.defaultPipeline)
      ?? notFound(catalog, catalog.defaultPipeline, `defaultPipeline in ${catalog.configPath}`)
  }
  return findPipeline(catalog, fallbackPipelineId) ?? notFound(catalog, fallbackPipelineId)
}

/**
 * Checks that every nested pipeline below `root` exists and that none contains itself, so that a
 * bad reference is reported before a run folder is created.
 */
export const checkNestedPipelines = (
  catalog: PipelineCatalogData,
  root: PipelineDefinition
): PipelineNotFound | PipelineCycle | undefined => {
  const visit = (pipeline: PipelineDefinition, chain: ReadonlyArray<string>): PipelineNotFound | PipelineCycle | undefined => {
    for (const stage of pipeline.stages) {
      if (stage.kind !== "subpipeline") continue
      if (chain.includes(stage.pipeline)) return new PipelineCycle({ chain: [...chain, stage.pipeline] })
      const child = findPipeline(catalog, stage.pipeline)
      if (child === undefined) return notFound(catalog, stage.pipeline, `stage '${stage.id}' of pipeline '${pipeline.id}'`)
      const problem = visit(child.pipeline, [...chain, stage.pipeline])
      if (problem !== undefined) return problem
    }
    return undefined
  }
  return visit(root, [root.id])
}

/** CFG-12: `tasks/index.json`, where a task id may have a slug and a title. */
export const TaskIndexFile = Schema.Struct({
  items: Schema.Array(Schema.Struct({ id: Schema.String, slug: Schema.String, title: Schema.String }))
})
export type TaskIndexFile = typeof TaskIndexFile.Type

/** Where the task index is, relative to the repository root (CFG-12). */
export const taskIndexFileName = "tasks/index.json"

/** A task's slug and title, from the task index or made from its id (CFG-12). */
export interface TaskMetadata {
  readonly slug: string
  readonly title: string
}

/** CFG-12: an exact id match gives slug and title; otherwise the slug is the id, the title `Task <id>`. */
export const taskMetadataOf = (index: TaskIndexFile | undefined, taskId: string): TaskMetadata => {
  const item = index?.items.find((entry) => entry.id === taskId)
  return item === undefined ? { slug: taskId, title: `Task ${taskId}` } : { slug: item.slug, title: item.title }
}
