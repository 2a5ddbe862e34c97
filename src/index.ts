/**
 * codex-orchestrator as a library. Namespaces, as @effect/platform's index has them: import the
 * module and use its members (`RunEngine.RunEngine`, `App.AppLive`, `TestKit.AppMemory`). Only what
 * an embedder uses is here; the engine's phases and helpers are not part of the API (see
 * docs/architecture.md), and api/codex-orchestrator.api.md lists everything that is.
 */

/** The app's layers: `AppLive` (production), `makeAppLayer` (with custom agents, executors, policy), `appGraph`. */
export * as App from "./layers/App.js"
/** The deterministic in-memory test kit: `AppMemory` and its scriptable leaves. */
export * as TestKit from "./TestKit.js"
/** The Promise facade for code that does not use Effect: `createOrchestrator(options)`, on a ManagedRuntime. */
export * as Orchestrator from "./Orchestrator.js"
/** The app's randomness (run ids, resume tokens, uuids): Web Crypto in production, seeded in the test kit. */
export * as Entropy from "./services/Entropy.js"

/** The engine: `plan`, `start`, `resume`, `status`, `watch`, their requests and results, and `BadInput`. */
export * as RunEngine from "./services/RunEngine.js"
/** A prepared run as agents receive it (`task.run`): its plan, `execute`, `complete`. */
export * as RunHandle from "./domain/RunHandle.js"
/** The typed run events (EVT-1, EVT-2) and their names. */
export * as Events from "./domain/Events.js"
/** The `run:summary` event that closes a `--jsonl` stream (EXEC-3), and `decodeJsonlLine` for any line of one. */
export * as RunSummaryEvent from "./domain/RunSummaryEvent.js"
/** Telling other systems a run ended (EXEC-4): the contract, `deliver(targets, runSummaryEvent)`, which never fails. */
export * as Notifier from "./services/Notifier.js"
/** `NotifierLive`: the Notifier on any platform HttpClient, each target retried with a bounded backoff. */
export * as Notifications from "./layers/Notifier.js"
/** OpenTelemetry: `otlpTracing(endpoint)` exports the run/stage/attempt spans over OTLP/HTTP and gives stages TRACEPARENT. */
export * as Tracing from "./Tracing.js"
/** Publishing and subscribing to run events. */
export * as EventBus from "./services/EventBus.js"
/** The live HUD on an EventBus (`mount`); Ink and React are loaded only when it is mounted. */
export * as Hud from "./hud/Hud.js"
/** What the HUD shows, as a pure fold of run events (`reduceHud`), for any view of one's own. */
export * as HudState from "./hud/HudState.js"
/** The HUD's lines as plain text (header, stage rows, footer), as the Ink view prints them. */
export * as HudFormat from "./hud/HudFormat.js"

/** The plan → build → test → review flow over the agents. */
export * as TaskManager from "./services/TaskManager.js"
/** What the TaskManager is asked to do (`TaskContext`), and `AgentFailure`, the error custom agents fail with. */
export * as Task from "./domain/TaskManager.js"
/** The planner agent contract. */
export * as Planner from "./services/Planner.js"
/** The builder agent contract. */
export * as Builder from "./services/Builder.js"
/** The tester agent contract. */
export * as Tester from "./services/Tester.js"
/** The reviewer agent contract. */
export * as Reviewer from "./services/Reviewer.js"

/** The executor contract (`Executor` for `mcp`, `CloudExecutor` for `cloud`) and its requests and events. */
export * as Executor from "./services/Executor.js"
/** The local executor's layer. */
export * as LocalExecutor from "./layers/Executor.js"
/** Where a stage runs (`mcp` | `cloud`) and the default MODE-1 policy. */
export * as ExecutionMode from "./domain/ExecutionMode.js"
/** A stage's `executionMode` as a config file may spell it, and how the legacy spellings normalise (D-23). */
export * as StageMode from "./domain/StageMode.js"
/** The mode policy contract an app may replace. */
export * as ExecutionModePolicy from "./services/ExecutionModePolicy.js"
/** The app's settings (roots, heartbeat, privacy mode, ...), as layers read them. */
export * as OrchestratorConfig from "./services/OrchestratorConfig.js"
/** DECISIONS B-5: the stage cache's contract (lookup, restore, store, stats, prune) and `cacheBypassed`. */
export * as StageCache from "./services/StageCache.js"

/** The manifest schema (`CliManifest`) and its sections. */
export * as Manifest from "./domain/Manifest.js"
/** Pipeline definitions: stages, catalog, validation. */
export * as Pipeline from "./domain/Pipeline.js"
/** Plans and targets. */
export * as Plan from "./domain/Plan.js"
/** The run summary (TM-7) and the agents' results. */
export * as RunSummary from "./domain/RunSummary.js"
/** Where a run's files are. */
export * as RunLayout from "./domain/RunLayout.js"
/** The stage and runner log records. */
export * as RunLog from "./domain/RunLog.js"
/** A typed reader of a run's logs: `runner.ndjson` and `commands/NN-<stage>.ndjson` as Streams of RunLog records. */
export * as RunLogs from "./RunLogs.js"
/** Task and run ids. */
export * as Ids from "./domain/Ids.js"
/** Approval policies and decisions (D-14, D-21). */
export * as Approval from "./domain/Approval.js"
/** Per-stage retry policies (B-1). */
export * as Retry from "./domain/Retry.js"
/** The metrics line (MET-1). */
export * as Metrics from "./domain/Metrics.js"
/** Errors about files we read and write. */
export * as FileErrors from "./domain/FileErrors.js"
/** The mirror tools (fetch, serve, check a site's offline copy), their layers loaded on first use. */
export * as Mirror from "./Mirror.js"
/** The hi-fi design toolkit's steps and their layer, loaded on first use. */
export * as Design from "./Design.js"
/** Errors about runs (not found, token mismatch, still active, changed pipeline). */
export * as RunErrors from "./domain/RunErrors.js"
