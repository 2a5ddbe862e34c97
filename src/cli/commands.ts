/**
 * The command tree (SPEC CLI-4, CLI-5 with DECISIONS D-1..D-4). Handlers are thin: they call the
 * RunEngine and print the result on stdout; progress goes to stderr through the logger.
 */
import { Args, Command, HelpDoc, Options } from "@effect/cli"
import { Console, Effect, type Layer, Option } from "effect"
import type { CliManifest } from "../domain/Manifest.js"
import { oneLine } from "../domain/OneLine.js"
import { keptText } from "../domain/RemoteStageText.js"
import { Files } from "../services/Files.js"
import { RunEngine } from "../services/RunEngine.js"
import { engine } from "./engine.js"
import { exec } from "./exec.js"
import { normaliseExecArgv } from "./execArgv.js"
import { jsonlOption, jsonlWhen } from "./jsonl.js"
import { notifyOption } from "./notify.js"
import { gateCommands } from "./gate.js"
import {
  format,
  printJson,
  RunNotSucceeded,
  runArg,
  runOption,
  task,
  UsageError,
  verbose,
  version
} from "./shared.js"
import { printedIfCancelled } from "./cancelReport.js"
import { design } from "./design.js"
import { following } from "./follow.js"
import { interactive, withHud } from "./hud.js"
import { mirror } from "./mirror.js"
import { planFormat, planJson, planMermaid, planText } from "./planOutput.js"
import { status } from "./status.js"
import { planTarget, resumeTarget, startTarget } from "./targetOption.js"
import { missingRunId } from "./statusReport.js"
import { runIdOf } from "./usage.js"
import { cluster } from "./cluster.js"
import { PlanningOnly } from "./clusterSettings.js"
import { cache, cacheText, explainCache, explainCacheOption } from "./cache.js"
import { runner } from "./runner.js"
import { cancelledWatched, finishWatched, watchTargets } from "./watch.js"
import { otelEndpointOption, traced } from "./tracing.js"
import { runWithUsageLines, valueFlagsOf } from "./usageLines.js"

const pipelineArg = Args.text({ name: "pipeline" }).pipe(
  // The parser takes an unknown flag here for the pipeline id: refused as the parser refuses one elsewhere (usageLines.ts).
  Args.mapEffect((id) => id.startsWith("-") ? Effect.fail(HelpDoc.p(`Received unknown argument: '${id}'`)) : Effect.succeed(id)),
  Args.withDescription("Pipeline id from codex.orchestrator.json or a built-in (default: defaultPipeline, then diagnostics)"),
  Args.optional
)
const parentRun = Options.text("parent-run").pipe(
  Options.withDescription("Record this run id as the parent of the new run"),
  Options.optional
)
const approvalPolicy = Options.choice("approval-policy", ["never", "on-request", "auto"]).pipe(
  Options.withDescription(
    "Who approves stages marked approvalRequired: on-request (default) asks on the terminal, auto grants, " +
      "never refuses (the stage fails)"
  ),
  Options.optional
)

const promptFile = Options.file("prompt-file", { exists: "yes" }).pipe(
  Options.withDescription(
    "A text file with what the run was asked to do; kept as prompt.md in the run folder. With learning on, a " +
      "command it shows (a shell code fence, an inline `cmd arg` span or a `$ cmd` line) is the scenario to " +
      "replay when no stage succeeded"
  ),
  Options.optional
)

/** `--prompt-file`: its text, or a usage error naming the file (exit 2). */
const readPrompt = (file: Option.Option<string>) =>
  Option.match(file, {
    onNone: () => Effect.succeed(undefined),
    onSome: (path) =>
      Effect.flatMap(Files, (files) => files.readText(path)).pipe(
        Effect.mapError((error) =>
          new UsageError({ reason: `--prompt-file ${path} could not be read (${error.message}); pass a readable text file.` })
        ),
        Effect.filterOrFail(
          (text): text is string => text !== undefined,
          () => new UsageError({ reason: `--prompt-file ${path} does not exist; pass a readable text file.` })
        )
      )
  })

/** MODE-1 override: `--execution-mode mcp|cloud`, or `--cloud` for short. */
const executionMode = Options.all({
  mode: Options.choice("execution-mode", ["mcp", "cloud"]).pipe(
    Options.withDescription(
      "Run every stage in this mode instead of the mode policy's choice. cloud uses the cloud executor; " +
        "without one configured it runs locally and records cloud_fallback_reason"
    ),
    Options.optional
  ),
  cloud: Options.boolean("cloud").pipe(Options.withDescription("Same as --execution-mode cloud"))
})

const resolveExecutionMode = (flags: { readonly mode: Option.Option<"mcp" | "cloud">; readonly cloud: boolean }) =>
  flags.cloud && Option.contains(flags.mode, "mcp")
    ? Effect.fail(new UsageError({ reason: "--cloud and --execution-mode mcp contradict each other; give one of them." }))
    : Effect.succeed(flags.cloud ? "cloud" as const : Option.getOrUndefined(flags.mode))

/** B-2: how a graph's stages are scheduled (start and resume). */
const schedule = Options.all({
  concurrency: Options.integer("concurrency").pipe(
    Options.withDescription(
      "At most this many stages at once, nested pipelines included (default: the pipeline's concurrency, else the " +
        "number of CPUs for a pipeline whose stages declare needs, 1 for a serial one)"
    ),
    Options.optional
  ),
  failFast: Options.boolean("fail-fast").pipe(
    Options.withDescription("The first failed stage cancels the stages still running (entries cancelled); the run fails")
  )
})

/** `--concurrency` must be a positive integer (exit 2 otherwise). */
const scheduleOf = (flags: { readonly concurrency: Option.Option<number>; readonly failFast: boolean }) =>
  Option.match(flags.concurrency, {
    onNone: () => Effect.succeed({ concurrency: undefined, failFast: flags.failFast || undefined }),
    onSome: (n) =>
      n >= 1
        ? Effect.succeed({ concurrency: n, failFast: flags.failFast || undefined })
        : Effect.fail(new UsageError({ reason: `--concurrency ${n} is not a positive integer; give 1 or more.` }))
  })

/** B-5: `--no-cache` runs every stage, neither reading nor filling the stage cache. */
const noCache = Options.boolean("no-cache").pipe(
  Options.withDescription(
    "Run every stage even when its cache has a hit, and store nothing (CODEX_ORCHESTRATOR_CACHE=off does the same for every run)"
  )
)

const follow = Options.boolean("follow").pipe(
  Options.withAlias("f"),
  Options.withDescription(
    "Print every stage's output on stderr as it arrives (stdout keeps only the result); the stage logs have it either way"
  )
)

const startResult = (manifest: CliManifest) => ({
  run_id: manifest.run_id,
  status: manifest.status,
  status_detail: manifest.status_detail,
  artifact_root: manifest.artifact_root,
  manifest: `${manifest.artifact_root}/manifest.json`,
  log_path: manifest.log_path,
  ...(manifest.execution_mode === undefined ? {} : { execution_mode: manifest.execution_mode }),
  ...(manifest.cloud_fallback_reason === undefined || manifest.cloud_fallback_reason === null
    ? {}
    : { cloud_fallback_reason: manifest.cloud_fallback_reason })
})

const runText = (header: string, manifest: CliManifest) =>
  [
    `${header}: ${manifest.run_id}`,
    `Status: ${manifest.status}${manifest.status_detail === null ? "" : ` (${manifest.status_detail})`}`,
    `Manifest: ${manifest.artifact_root}/manifest.json`,
    `Log: ${manifest.log_path}`,
    ...(manifest.cloud_fallback_reason === undefined || manifest.cloud_fallback_reason === null
      ? []
      : [`Mode: cloud, run locally (${manifest.cloud_fallback_reason})`]),
    ...manifest.commands.map((c) => `  [${c.status}] ${c.title}${c.summary === null ? "" : ` — ${c.summary.split("\n")[0]}`}${keptText(c.remote)}`)
  ].map(oneLine).join("\n")

/** A run's document on stdout: JSON with `--format json`, else the text summary, its lines escaped as status's are (D-2). */
const printDocument = (header: string, format: "text" | "json") => (manifest: CliManifest) =>
  format === "json" ? printJson(startResult(manifest)) : Console.log(runText(header, manifest))

/** Prints a finished run; a run that did not succeed fails the command (exit 1, or 130 if cancelled). */
const printRunResult = (header: string, manifest: CliManifest, format: "text" | "json") =>
  Effect.gen(function*() {
    yield* printDocument(header, format)(manifest)
    if (manifest.status !== "succeeded") {
      return yield* new RunNotSucceeded({ runId: manifest.run_id, status: manifest.status })
    }
  })

/** `start`: needs RunEngine and EventBus from its caller (subcommandsOn provides them). */
export const start = Command.make(
  "start",
  { pipeline: pipelineArg, task, target: startTarget, format, parentRun, approvalPolicy, verbose, interactive, executionMode, promptFile, follow, schedule, noCache, jsonl: jsonlOption, notify: notifyOption, otelEndpoint: otelEndpointOption },
  (flags) =>
    Effect.gen(function*() {
      const mode = yield* resolveExecutionMode(flags.executionMode)
      const prompt = yield* readPrompt(flags.promptFile)
      const scheduled = yield* scheduleOf(flags.schedule)
      const engine = yield* RunEngine
      const targets = yield* watchTargets(flags, flags.format)
      // With --jsonl, stdout is the event stream: a cancelled run closes it with its run:summary line.
      const cancelled = cancelledWatched(flags, targets, printDocument("Run started", flags.format))
      const { manifest } = yield* printedIfCancelled(cancelled)(withHud(flags.interactive, flags.jsonl ? "json" : flags.format, jsonlWhen(flags.jsonl, engine.start({
        ...scheduled,
        ...(flags.noCache ? { cache: false } : {}),
        prompt,
        executionMode: mode,
        pipelineId: Option.getOrUndefined(flags.pipeline),
        taskId: Option.getOrUndefined(flags.task),
        target: Option.getOrUndefined(flags.target),
        parentRunId: Option.getOrUndefined(flags.parentRun),
        approvalPolicy: Option.getOrUndefined(flags.approvalPolicy)
      })), following(flags.follow)))
      yield* finishWatched(flags, manifest, targets, printRunResult("Run started", manifest, flags.format))
    }).pipe(traced(flags.otelEndpoint, "start"))
).pipe(Command.withDescription(
  "Run a pipeline: every stage in order, stopping at the first failure (stages that declare needs run as a graph, " +
    "independent ones at once). Writes .runs/<task>/cli/<run>/. " +
    "Exit 0 if the run succeeded, 1 if it failed, 2 on bad input (nothing written), 130 if interrupted."
))

/** `plan`: needs RunEngine from its caller. */
export const plan = Command.make(
  "plan",
  { pipeline: pipelineArg, task, target: planTarget, format: planFormat, verbose, explainCache: explainCacheOption },
  (flags) =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      if (flags.explainCache && flags.format === "mermaid") {
        return yield* new UsageError({ reason: "--explain-cache is shown in text or json; drop --format mermaid." })
      }
      const view = yield* engine.plan({
        pipelineId: Option.getOrUndefined(flags.pipeline),
        taskId: Option.getOrUndefined(flags.task),
        target: Option.getOrUndefined(flags.target)
      })
      const verdicts = flags.explainCache ? yield* explainCache(view) : undefined
      yield* flags.format === "json"
        ? printJson(verdicts === undefined ? planJson(view) : { ...planJson(view), cache: verdicts })
        : Console.log(
          flags.format === "mermaid" ? planMermaid(view) : verdicts === undefined ? planText(view) : `${planText(view)}\n${cacheText(verdicts)}`
        )
    })
).pipe(Command.withDescription("Show the stages a pipeline would run, without running anything or writing files."))

/** `resume`: needs RunEngine and EventBus from its caller. */
export const resume = Command.make(
  "resume",
  {
    run: runArg,
    runFlag: runOption,
    task,
    target: resumeTarget,
    format,
    verbose,
    approvalPolicy,
    interactive,
    executionMode,
    follow,
    schedule,
    noCache,
    jsonl: jsonlOption,
    notify: notifyOption,
    otelEndpoint: otelEndpointOption,
    token: Options.text("token").pipe(
      Options.withDescription("The run's resume_token; without it, the run folder's .resume-token must match the manifest"),
      Options.optional
    ),
    actor: Options.text("actor").pipe(Options.withDescription("Who resumes, recorded in resume_events"), Options.withDefault("cli")),
    reason: Options.text("reason").pipe(
      Options.withDescription("Why, recorded in resume_events"),
      Options.withDefault("manual-resume")
    )
  },
  (flags) =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const runId = yield* Effect.flatMap(runIdOf("resume", resumeValueFlags(), flags.run, flags.runFlag), Option.match({
        onNone: () => missingRunId("resume", Option.getOrUndefined(flags.task)),
        onSome: Effect.succeed
      }))
      const mode = yield* resolveExecutionMode(flags.executionMode)
      const scheduled = yield* scheduleOf(flags.schedule)
      const targets = yield* watchTargets(flags, flags.format)
      const cancelled = cancelledWatched(flags, targets, printDocument("Run resumed", flags.format))
      const outcome = yield* printedIfCancelled(cancelled)(withHud(flags.interactive, flags.jsonl ? "json" : flags.format, jsonlWhen(flags.jsonl, engine.resume({
        ...scheduled,
        ...(flags.noCache ? { cache: false } : {}),
        executionMode: mode,
        runId,
        taskId: Option.getOrUndefined(flags.task),
        target: Option.getOrUndefined(flags.target),
        token: Option.getOrUndefined(flags.token),
        actor: flags.actor,
        reason: flags.reason,
        approvalPolicy: Option.getOrUndefined(flags.approvalPolicy)
      })), following(flags.follow)))
      // RUN-9: a run that had already succeeded was left as it is; its document must not say it was resumed.
      const header = outcome.alreadySucceeded === true ? "Run already succeeded, nothing resumed" : "Run resumed"
      yield* finishWatched(flags, outcome.manifest, targets, printRunResult(header, outcome.manifest, flags.format))
    }).pipe(traced(flags.otelEndpoint, "resume"))
).pipe(Command.withDescription(
  "Continue a run that failed, was cancelled or crashed: re-runs the stages that did not succeed, on the same " +
    "run id (--target re-runs one stage). A run that is still alive (fresh heartbeat, owner process running) is refused."
))

/** resume's flags that take a value (for runIdOf; typed, so that resume's type does not depend on itself). */
const resumeValueFlags = (): ReadonlyArray<string> => valueFlagsOf(resume)

/**
 * Every subcommand, with `engine` provided to those that plan or run pipelines (status, mirror and
 * the gate commands read runs and files without it). New subcommands are added to this list.
 */
export const subcommandsOn = <L, E, R>(engine: Layer.Layer<L, E, R>) =>
  [
    start.pipe(Command.provide(engine)),
    plan.pipe(Command.provide(engine), Command.transformHandler((handler) => Effect.provideService(handler, PlanningOnly, true))),
    status,
    resume.pipe(Command.provide(engine)),
    exec.pipe(Command.provide(engine)),
    cache.pipe(Command.provide(engine)),
    mirror,
    design,
    runner,
    cluster,
    ...gateCommands
  ] as const

/**
 * The root command named `name` over `engine`: the CLI's own is `rootCommand`; an app mounts this
 * under its own command (`Command.withSubcommands([rootCommandOn("orch", App.engineLayer(custom))])`).
 * What the commands need besides the engine is AppBaseLive and the platform (App.ts).
 */
export const rootCommandOn = <const Name extends string, L, E, R>(name: Name, engine: Layer.Layer<L, E, R>) =>
  Command.make(name).pipe(
    Command.withDescription(
      "Runs pipelines of shell-command stages and records manifests and logs under .runs/<task>/cli/<run>/."
    ),
    Command.withSubcommands(subcommandsOn(engine))
  )

/** `codex-orchestrator` with every subcommand; the engine is loaded on first use (engine.ts). */
export const rootCommand = rootCommandOn("codex-orchestrator", engine)

// A usage error is one `error:` line naming the flag and the command's --help (usageLines.ts).
const runRoot = runWithUsageLines(rootCommand, { name: "codex-orchestrator", version })

/**
 * The package's own command line: parses `process.argv` and runs the command (main.ts); an `exec`
 * command line is put in the parser's form first (execArgv.ts: EXEC-1's spellings, unknown options refused).
 */
export const cli = (argv: ReadonlyArray<string>) => Effect.flatMap(normaliseExecArgv(argv), runRoot)
