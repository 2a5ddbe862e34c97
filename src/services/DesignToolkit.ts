import { Context, type Effect, Schema } from "effect"
import type { UnsafeArtifactPath } from "../domain/DesignPaths.js"
import type { FileAccessError, InvalidFile } from "../domain/FileErrors.js"
import type { InvalidId } from "../domain/Ids.js"
import type { BrowserFailed, BrowserNotFound } from "./MirrorChecker.js"
import type { MirrorServeFailed } from "./MirrorServer.js"

/** Which run a step writes into. Stages get it from the engine (ENV-5); by hand, from the flags. */
export interface DesignStepRequest {
  /** `--task`, else `CODEX_ORCHESTRATOR_TASK_ID`, else `MCP_RUNNER_TASK_ID`. */
  readonly taskId?: string | undefined
  /** `--run`, else `CODEX_ORCHESTRATOR_RUN_ID`. */
  readonly runId?: string | undefined
  /** `--config`, else `DESIGN_CONFIG_PATH`, else `<repo>/design.config.yaml`. */
  readonly configPath?: string | undefined
}

/** What a step did: the lines to show and the files it wrote (repository-relative). */
export interface DesignStepResult {
  readonly step: string
  readonly lines: ReadonlyArray<string>
  readonly artifacts: ReadonlyArray<string>
}

/** One thing `design setup` looked for. */
export interface SetupCheck {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
  /** How to get it when it is missing. */
  readonly fix: string
  /** Whether the toolkit cannot run without it (FFmpeg only stops the optional motion step). */
  readonly required: boolean
}

/** A design step run outside a pipeline without a run to write into. */
export class DesignRunUnknown extends Schema.TaggedError<DesignRunUnknown>()("DesignRunUnknown", {
  step: Schema.String
}) {
  override get message() {
    return `design ${this.step} does not know which run to write into: it runs as a stage of the ` +
      "hi-fi-design-toolkit pipeline (which sets CODEX_ORCHESTRATOR_RUN_ID), or pass --run <run-id>."
  }
}

/** A step that needs what an earlier step writes, run before it. */
export class DesignStepMissingInput extends Schema.TaggedError<DesignStepMissingInput>()("DesignStepMissingInput", {
  step: Schema.String,
  missing: Schema.String,
  needs: Schema.String
}) {
  override get message() {
    return `design ${this.step}: ${this.missing} is missing; run \`codex-orchestrator design ${this.needs}\` for this run first.`
  }
}

/** The reference copy differs from the live capture by more than the configured threshold. */
export class DesignDiffExceeded extends Schema.TaggedError<DesignDiffExceeded>()("DesignDiffExceeded", {
  worst: Schema.String,
  percent: Schema.Number,
  threshold: Schema.Number
}) {
  override get message() {
    return `design diff: ${this.worst} differs by ${this.percent.toFixed(2)}% (threshold ${this.threshold}%); ` +
      "see the diff images under artifacts/design-toolkit/diffs/"
  }
}

/** A tool (FFmpeg) that failed or is missing. */
export class DesignToolFailed extends Schema.TaggedError<DesignToolFailed>()("DesignToolFailed", {
  tool: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `${this.tool}: ${this.detail}`
  }
}

/** Every way a design step can fail that is not a browser problem. */
export type DesignStepError =
  | InvalidFile
  | InvalidId
  | FileAccessError
  | UnsafeArtifactPath
  | DesignRunUnknown
  | DesignStepMissingInput

export type DesignBrowserError = DesignStepError | BrowserNotFound | BrowserFailed

/**
 * The hi-fi design toolkit's steps (issue 24, SPEC DES-1..3): each is a stage of the built-in
 * `hi-fi-design-toolkit` / `design-reference` pipelines, writing under
 * `<runs>/<task>/<run>/artifacts/design-toolkit/`. Each step reads what earlier ones wrote there.
 */
export class DesignToolkit extends Context.Tag("orchestrator/DesignToolkit")<
  DesignToolkit,
  {
    readonly setup: Effect.Effect<ReadonlyArray<SetupCheck>, FileAccessError>
    /** The config, checked (every bad field at once) and summarised; the permit consulted. */
    readonly config: (request: DesignStepRequest) => Effect.Effect<DesignStepResult, DesignStepError>
    readonly extract: (request: DesignStepRequest) => Effect.Effect<DesignStepResult, DesignBrowserError>
    readonly tokens: (request: DesignStepRequest) => Effect.Effect<DesignStepResult, DesignStepError>
    readonly styleguide: (request: DesignStepRequest) => Effect.Effect<DesignStepResult, DesignStepError>
    readonly reference: (request: DesignStepRequest) => Effect.Effect<DesignStepResult, DesignStepError | DesignToolFailed>
    readonly motion: (request: DesignStepRequest) => Effect.Effect<DesignStepResult, DesignBrowserError | DesignToolFailed>
    readonly diff: (
      request: DesignStepRequest
    ) => Effect.Effect<DesignStepResult, DesignBrowserError | MirrorServeFailed | DesignDiffExceeded>
    /** With `publish.enabled`: the tokens copied into the repository, then the publish commands. */
    readonly publish: (request: DesignStepRequest) => Effect.Effect<DesignStepResult, DesignStepError | DesignToolFailed>
    readonly write: (request: DesignStepRequest) => Effect.Effect<DesignStepResult, DesignStepError>
  }
>() {}
