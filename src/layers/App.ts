import { Path } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Layer } from "effect"
import type { PipelineCatalogData } from "../domain/Pipeline.js"
import type { Builder } from "../services/Builder.js"
import type { CloudSync } from "../services/CloudSync.js"
import type { CloudExecutor } from "../services/Executor.js"
import type { ExecutionModePolicy } from "../services/ExecutionModePolicy.js"
import type { OrchestratorSettings } from "../services/OrchestratorConfig.js"
import type { PipelineRunner } from "../services/PipelineRunner.js"
import type { Planner } from "../services/Planner.js"
import type { Reviewer } from "../services/Reviewer.js"
import type { Tester } from "../services/Tester.js"
import { FetchHttpClient } from "@effect/platform"
import { CliAgentsLive } from "./CliAgents.js"
import { CloudSyncDisabled, CloudSyncLive } from "./CloudSync.js"
import { CloudSyncWorkerLive } from "./CloudSyncWorker.js"
import { ControlPlaneLive, ControlPlaneMemory, type ControlPlaneMemoryOptions } from "./ControlPlane.js"
import { LearningLive, LearningMemory, type LearningMemoryOptions } from "./Learning.js"
import { CredentialBrokerLive } from "./CredentialBroker.js"
import { EventBusLive } from "./EventBus.js"
import { ExecutionModePolicyDefault } from "./ExecutionModePolicy.js"
import { ExecutorLocal } from "./Executor.js"
import { ExperienceStoreLive } from "./ExperienceStore.js"
import { RunReadingLive } from "./AppBase.js"
import { stackOn } from "./internal/layerStack.js"
import { FilesMemory } from "./Files.js"
import { HostLive, HostMemory } from "./Host.js"
import { InstructionsLive, InstructionsMemory } from "./Instructions.js"
import { MetricsRecorderLive } from "./MetricsRecorder.js"
import { OrchestratorConfigLive, OrchestratorConfigTest } from "./OrchestratorConfig.js"
import { PersistenceCoordinatorLive } from "./PersistenceCoordinator.js"
import { PipelineCatalogLive, PipelineCatalogMemory } from "./PipelineCatalog.js"
import { PipelineRunnerLive } from "./PipelineRunner.js"
import { PrompterLive, PrompterScripted } from "./Prompter.js"
import { PromptPacksLive, PromptPacksMemory } from "./PromptPacks.js"
import { ProcessRunnerLive, ProcessRunnerMemory, type ScriptedProcess } from "./ProcessRunner.js"
import { RunEngineLive } from "./RunEngine.js"
import { RunReaderLive } from "./RunReader.js"
import { RunStoreLive } from "./RunStore.js"
import { TaskManagerLive } from "./TaskManager.js"
import { TaskStateStoreLive } from "./TaskStateStore.js"

/** The agents an app may replace, any subset of them. */
export type Agent = Planner | Builder | Tester | Reviewer

/** What an embedding app can swap in the graph; anything not given keeps the CLI's own. */
export interface AppCustomization<A extends Agent = never> {
  /** Agents that replace the CLI's (any subset); they may use the PipelineRunner. */
  readonly agents?: Layer.Layer<A, never, PipelineRunner> | undefined
  /** Replaces the MODE-1 policy. */
  readonly modePolicy?: Layer.Layer<ExecutionModePolicy> | undefined
  /** Runs `cloud` subtasks (DECISIONS B-3); without one they run locally and record `cloud_fallback_reason`. */
  readonly cloudExecutor?: Layer.Layer<CloudExecutor> | undefined
}

/**
 * The engine and everything above the platform services, read bottom-up: executors, the event bus
 * and the task-level stores (metrics, task state, experiences) -> the PipelineRunner -> the agents -> TaskManager and persistence ->
 * RunEngine. Later layers in a stack see the earlier ones and win, so customizations replace the
 * defaults. Stacked one layer at a time (see stackOn): cheaper to build than provideMerge/mergeAll.
 */
export const orchestrationLayer = <A extends Agent = never>(custom: AppCustomization<A> = {}) => {
  const agents: Layer.Layer<Agent, never, PipelineRunner> = custom.agents === undefined
    ? CliAgentsLive
    : custom.agents.pipe(stackOn(CliAgentsLive))
  const modePolicy = custom.modePolicy ?? ExecutionModePolicyDefault
  const executors = custom.cloudExecutor === undefined ? ExecutorLocal : custom.cloudExecutor.pipe(stackOn(ExecutorLocal))
  return RunEngineLive.pipe(
    stackOn(CloudSyncWorkerLive),
    stackOn(PersistenceCoordinatorLive),
    stackOn(TaskManagerLive),
    stackOn(modePolicy),
    stackOn(agents),
    stackOn(PipelineRunnerLive),
    stackOn(ExperienceStoreLive),
    stackOn(TaskStateStoreLive),
    stackOn(MetricsRecorderLive),
    stackOn(EventBusLive),
    stackOn(executors)
  )
}

/**
 * What every command builds on: reading runs (RunReadingLive: configuration, files, run reader) and
 * the run store. The CLI provides this to every command and loads the engine above it only for the
 * commands that run pipelines. Platform left open.
 */
export const AppBaseLive = RunStoreLive.pipe(stackOn(RunReadingLive))

/**
 * The engine on top of AppBaseLive: pipelines, processes, prompts, the control plane, learning,
 * cloud sync and the orchestration. Needs the base services and the platform.
 */
export const engineLayer = <A extends Agent = never>(custom: AppCustomization<A> = {}) =>
  orchestrationLayer(custom).pipe(
    // Cloud sync (SYNC-1..4) is off unless CODEX_CLOUD_SYNC is on; fetch keeps the HTTP client light.
    stackOn(CloudSyncLive.pipe(Layer.provide(Layer.merge(CredentialBrokerLive, FetchHttpClient.layer)))),
    stackOn(LearningLive),
    stackOn(ControlPlaneLive),
    stackOn(PromptPacksLive),
    stackOn(InstructionsLive),
    stackOn(PrompterLive),
    stackOn(ProcessRunnerLive),
    stackOn(HostLive),
    stackOn(PipelineCatalogLive()),
    // The engine's settings, on the base ones below it: a bad engine setting fails only this graph.
    stackOn(OrchestratorConfigLive)
  )

/**
 * The whole graph on the platform: config -> files -> run store and reader -> engine. The platform
 * (FileSystem, Path, CommandExecutor) is left open.
 */
export const makeAppLayer = <A extends Agent = never>(custom: AppCustomization<A> = {}) =>
  engineLayer(custom).pipe(Layer.provideMerge(AppBaseLive))

export const AppLayer = makeAppLayer()

/** Production: real processes, disk and environment. Provided by src/cli/main.ts. */
export const AppLive = AppLayer.pipe(Layer.provideMerge(NodeContext.layer))

export interface MemoryAppOptions<A extends Agent = never> extends AppCustomization<A> {
  readonly repoRoot?: string
  readonly scripts?: Parameters<typeof ProcessRunnerMemory>[0]
  readonly pipelines?: Partial<PipelineCatalogData>
  readonly settings?: Partial<OrchestratorSettings>
  readonly host?: Parameters<typeof HostMemory>[0]
  /** Scripted answers to approval prompts, by approval key; unanswered keys are `unavailable`. */
  readonly approvals?: Parameters<typeof PrompterScripted>[0]
  /** Instruction files by repo-relative path (`AGENTS.md`, `docs/AGENTS.md`, `.agent/AGENTS.md`); none by default. */
  readonly instructions?: Readonly<Record<string, string>>
  /** Prompt pack manifests (`.agent/prompts/prompt-packs/<name>/manifest.json`) and the files they name, by repo-relative path. */
  readonly promptPacks?: Readonly<Record<string, string>>
  /** The control plane's mode, group settings and drift reports (shadow, no group, empty by default). */
  readonly controlPlane?: ControlPlaneMemoryOptions | undefined
  /** The learning pipeline (LRN); off unless given. When on, script the git commands it runs. */
  readonly learning?: LearningMemoryOptions | undefined
  /** Cloud sync; off by default. CloudSyncLive over HttpClientMemory and CredentialBrokerMemory tests it. */
  readonly cloudSync?: Layer.Layer<CloudSync, never, never> | undefined
}

/**
 * The deterministic test kit (DECISIONS B-4): the same engine on scripted processes, in-memory files
 * and a fixed catalog. No processes, no disk; time is the Clock (TestClock in tests). Also provides
 * ProcessInvocations and InMemoryFiles to inspect what happened.
 */
export const AppMemory = <A extends Agent = never>(options: MemoryAppOptions<A> = {}) => {
  const repoRoot = options.repoRoot ?? "/repo"
  const config = OrchestratorConfigTest(repoRoot, options.settings)
  return orchestrationLayer(options).pipe(
    Layer.provideMerge(options.cloudSync ?? CloudSyncDisabled),
    Layer.provideMerge(Layer.merge(ControlPlaneMemory(options.controlPlane), LearningMemory({ enabled: false, ...options.learning }))),
    Layer.provideMerge(Layer.mergeAll(
      PipelineCatalogMemory(options.pipelines ?? {}),
      ProcessRunnerMemory(options.scripts ?? {}),
      HostMemory(options.host),
      PrompterScripted(options.approvals),
      InstructionsMemory(options.instructions ?? {}),
      PromptPacksMemory(options.promptPacks ?? {})
    )),
    Layer.provideMerge(RunReaderLive),
    Layer.provideMerge(RunStoreLive),
    Layer.provideMerge(FilesMemory),
    Layer.provideMerge(config),
    Layer.provideMerge(Path.layer)
  )
}

export type { ScriptedProcess }
