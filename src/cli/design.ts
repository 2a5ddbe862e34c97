/**
 * `design setup|config|extract|tokens|styleguide|reference|motion|diff|write` (issue 24, SPEC
 * DES-1..3): the hi-fi design toolkit's steps, each a stage of the built-in `hi-fi-design-toolkit`
 * and `design-reference` pipelines. The layer (Playwright, the HTTP server, FFmpeg through the
 * ProcessRunner) loads on first use, so the other commands' start-up does not pay for it.
 */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option, Schema } from "effect"
import { defaultPublishTokensDir } from "../domain/DesignConfig.js"
import { UnsafeArtifactPath } from "../domain/DesignPaths.js"
import { DesignRunUnknown, DesignToolkit, type DesignStepRequest, type DesignStepResult } from "../services/DesignToolkit.js"
import { DesignToolkitLayer } from "../layers/ToolLayers.js"
import { format, printJson, UsageError, verbose } from "./shared.js"

/** `design setup` found the browser missing: the toolkit cannot run (exit 1); what to do is printed. */
export class DesignSetupIncomplete extends Schema.TaggedError<DesignSetupIncomplete>()("DesignSetupIncomplete", {
  missing: Schema.Array(Schema.String)
}) {
  override get message() {
    return `the design toolkit cannot run without: ${this.missing.join(", ")} (see the fixes above)`
  }
}

const stepOptions = {
  task: Options.text("task").pipe(
    Options.withDescription("The run's task (default: $CODEX_ORCHESTRATOR_TASK_ID in a stage, else $MCP_RUNNER_TASK_ID, else 0101)"),
    Options.optional
  ),
  run: Options.text("run").pipe(
    Options.withDescription("The run to write into (default: $CODEX_ORCHESTRATOR_RUN_ID, which the pipeline gives its stages)"),
    Options.optional
  ),
  config: Options.text("config").pipe(
    Options.withDescription("The design config (default: $DESIGN_CONFIG_PATH, else design.config.yaml at the repository root)"),
    Options.optional
  ),
  format,
  verbose
}

type StepFlags = {
  readonly task: Option.Option<string>
  readonly run: Option.Option<string>
  readonly config: Option.Option<string>
  readonly format: "text" | "json"
}

const requestOf = (flags: StepFlags): DesignStepRequest => ({
  taskId: Option.getOrUndefined(flags.task),
  runId: Option.getOrUndefined(flags.run),
  configPath: Option.getOrUndefined(flags.config)
})

const print = (flags: StepFlags, outcome: DesignStepResult) =>
  flags.format === "json" ? printJson(outcome) : Console.log(outcome.lines.join("\n"))

const step = <E>(
  name: string,
  description: string,
  run: (toolkit: DesignToolkit["Type"], request: DesignStepRequest) => Effect.Effect<DesignStepResult, E>
) =>
  Command.make(name, stepOptions, (flags) =>
    Effect.flatMap(DesignToolkit, (toolkit) => run(toolkit, requestOf(flags))).pipe(
      // No run to write into, or a path that would leave the artifacts folder: bad input (exit 2).
      Effect.mapError((error) =>
        error instanceof DesignRunUnknown || error instanceof UnsafeArtifactPath ? new UsageError({ reason: error.message }) : error
      ),
      Effect.flatMap((outcome) => print(flags, outcome))
    )).pipe(Command.withDescription(`${description} Example: codex-orchestrator design ${name}${
      name === "config" ? "" : " --task demo --run <run-id> (inside the pipeline both come from the run)"
    }`))

const where = "Writes under .runs/<task>/<run>/artifacts/design-toolkit/"

const steps = [
  step("config", "Check design.config.yaml (every bad field at once, exit 2) and consult compliance/permit.json " +
    "(an unlisted origin is a warning, DES-1); prints each source and its breakpoints. Writes nothing.", (t, r) => t.config(r)),
  step("extract", `For each source and breakpoint, load the page in headless Chromium and keep a full-page screenshot ` +
    `(masks boxed, animations stopped), the rendered DOM and the count of computed styles. ${where}context/<slug>/<breakpoint>/.`,
    (t, r) => t.extract(r)),
  step("tokens", `Rank the colours, font families, sizes, weights, spacings and radii the pages use by number of uses: ` +
    `tokens.json and tokens.css (CSS custom properties). Needs extract. ${where}tokens/<slug>/.`, (t, r) => t.tokens(r)),
  step("styleguide", `A static page per source showing its tokens beside its screenshots; open index.html in a browser. ` +
    `Needs tokens. ${where}styleguide/<slug>/.`, (t, r) => t.styleguide(r)),
  step("reference", `An offline copy of each source with the mirror's machinery (assets localised, trackers stripped, ` +
    `absolute paths kept so they resolve from the copy's root, the scroll fallback script added). Serve the folder as a ` +
    `site root. ${where}reference/<slug>/.`, (t, r) => t.reference(r)),
  step("motion", `A short video (FFmpeg, H.264) of a scripted scroll per breakpoint, and its first, middle and last frames ` +
    `as PNG key frames. Optional in the pipelines (allowFailure); needs ffmpeg. ${where}context/<slug>/<breakpoint>/motion/.`,
    (t, r) => t.motion(r)),
  step("diff", `Serve the reference copy offline, capture it as extract captured the live page, and compare them pixel ` +
    `by pixel per breakpoint (pixelmatch). Exit 1 when a breakpoint differs by more than diff.maxPercent (default 2%). ` +
    `${where}diffs/<slug>/.`, (t, r) => t.diff(r)),
  step("publish", `With publish.enabled in design.config.yaml: copy each source's tokens into the repository as ` +
    `<publish.tokensDir>/<slug>.json and .css (default ${defaultPublishTokensDir}), then run each publish.commands line ` +
    "(sh -c in the repository root; DESIGN_TOOLKIT_SLUG, DESIGN_TOOLKIT_TOKENS, DESIGN_TOOLKIT_TASK_ID, DESIGN_TOOLKIT_RUN_ID " +
    `set), exit 1 when one fails. Off by default: prints that and succeeds. ${where}publish/logs/<slug>/.`, (t, r) => t.publish(r)),
  step("write", "Apply retention (the task's earlier runs older than retention.days or beyond the newest retention.maxRuns " +
    "lose their artifacts/design-toolkit folder and out record; autoPurge: false only reports), then record every artifact " +
    "and a summary as design_toolkit_artifacts and design_toolkit_summary in the run's manifest (adopted when the stage " +
    "ends) and in out/<task>/design/runs/<run>.json.", (t, r) => t.write(r))
]

const setup = Command.make("setup", { format, verbose }, (flags) =>
  Effect.gen(function*() {
    const checks = yield* (yield* DesignToolkit).setup
    yield* flags.format === "json"
      ? printJson({ ready: checks.every((c) => c.ok || !c.required), checks })
      : Console.log(checks.map((c) =>
        `${c.ok ? "ok     " : c.required ? "MISSING" : "missing"} ${c.name}: ${c.detail}${c.ok ? "" : `\n        fix: ${c.fix}`}`
      ).join("\n"))
    const missing = checks.filter((c) => c.required && !c.ok).map((c) => c.name)
    if (missing.length > 0) return yield* new DesignSetupIncomplete({ missing })
  })).pipe(Command.withDescription(
    "Check what the design toolkit needs and say how to get what is missing: Chromium (required; Debian's chromium, " +
      "or CHROMIUM_PATH) and FFmpeg (only for the motion step). Exit 0 when the toolkit can run, 1 otherwise. " +
      "Example: codex-orchestrator design setup --format json"
  ))

export const design = Command.make("design").pipe(
  Command.withDescription(
    "The hi-fi design toolkit: capture a site's look (screenshots, DOM), its tokens, a style guide, an offline reference " +
      "copy, its motion and a pixel diff, as the steps of the hi-fi-design-toolkit pipeline (start hi-fi-design-toolkit)."
  ),
  Command.withSubcommands([setup, ...steps]),
  Command.provide(DesignToolkitLayer)
)
