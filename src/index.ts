/**
 * codex-orchestrator as a library: the domain schemas, the service tags, and their layers
 * (Live on the platform, Memory for tests). Effect users provide `AppLayer` (plus a platform) or
 * `AppLive`; tests provide `AppMemory`.
 */
export * from "./domain/Approval.js"
export * from "./domain/Env.js"
export * from "./domain/FileErrors.js"
export * from "./domain/Guardrails.js"
export * from "./domain/Ids.js"
export * from "./domain/Instructions.js"
export * from "./domain/Manifest.js"
export * from "./domain/Pipeline.js"
export * from "./domain/Plan.js"
export * from "./domain/Retry.js"
export * from "./domain/RunErrors.js"
export * from "./domain/RunLayout.js"
export * from "./domain/RunLog.js"
export * from "./domain/RunSummary.js"
export * from "./domain/StageSummary.js"

export * from "./services/Host.js"
export * from "./services/Instructions.js"
export * from "./services/OrchestratorConfig.js"
export * from "./services/PipelineCatalog.js"
export * from "./services/Prompter.js"
export * from "./services/ProcessRunner.js"
export * from "./services/RunEngine.js"
export * from "./services/RunStore.js"

export * from "./layers/App.js"
export * from "./layers/Host.js"
export * from "./layers/Instructions.js"
export * from "./layers/OrchestratorConfig.js"
export * from "./layers/PipelineCatalog.js"
export * from "./layers/Prompter.js"
export * from "./layers/ProcessRunner.js"
export * from "./layers/RunEngine.js"
export * from "./layers/RunStore.js"
