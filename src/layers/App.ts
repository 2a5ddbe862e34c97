import { FetchHttpClient, Path } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect, Layer } from "effect"
import type { PipelineCatalogData, PipelineDefinition } from "../domain/Pipeline.js"
import type { BaseConfig } from "../services/BaseConfig.js"
import type { CloudSync } from "../services/CloudSync.js"
import type { ControlPlane } from "../services/ControlPlane.js"
import type { Entropy } from "../services/Entropy.js"
import type { Files } from "../services/Files.js"
import type { Host } from "../services/Host.js"
import type { Instructions } from "../services/Instructions.js"
import type { Learning } from "../services/Learning.js"
import type { OrchestratorConfig, OrchestratorSettings } from "../services/OrchestratorConfig.js"
import type { PipelineCatalog } from "../services/PipelineCatalog.js"
import type { ProcessRunner } from "../services/ProcessRunner.js"
import type { Prompter } from "../services/Prompter.js"
import type { PromptPacks } from "../services/PromptPacks.js"
import { readingGraph } from "./AppBase.js"
import { type Agent, type AppCustomization, replacing, stackedOn } from "./AppCustomization.js"
import { checkingPipelinesInCode } from "./AppPipelines.js"
import { type BaseOverrides, BaseConfigWith } from "./BaseConfig.js"
import { CliAgentsLive } from "./CliAgents.js"
import { CloudSyncDisabled, CloudSyncLive } from "./CloudSync.js"
import { CloudSyncWorkerLive } from "./CloudSyncWorker.js"
import { CommandStageRunnerLive } from "./CommandStageRunner.js"
import { ControlPlaneLive, ControlPlaneMemory, type ControlPlaneMemoryOptions } from "./ControlPlane.js"
import { CredentialBrokerLive } from "./CredentialBroker.js"
import { EventBusLive } from "./EventBus.js"
import { ExecutionModePolicyDefault } from "./ExecutionModePolicy.js"
import { ExecutorLocal } from "./Executor.js"
import { ExperienceStoreLive } from "./ExperienceStore.js"
import { EntropyLive, EntropySeeded } from "./Entropy.js"
import { FilesLive, FilesMemorySeeded } from "./Files.js"
import { HostLive, HostMemory } from "./Host.js"
import { InstructionsLive } from "./Instructions.js"
import { stackOn } from "./internal/layerStack.js"
import { LearningLive, LearningMemory, type LearningMemoryOptions } from "./Learning.js"
import { MetricsRecorderLive } from "./MetricsRecorder.js"
import { type EngineOverrides, OrchestratorConfigTest, OrchestratorConfigWith } from "./OrchestratorConfig.js"
import { PersistenceCoordinatorLive } from "./PersistenceCoordinator.js"
import { PipelineCatalogLive, PipelineCatalogMemory, readBuiltinPipelines } from "./PipelineCatalog.js"
import { ProcessRunnerLive, ProcessRunnerMemory, type ScriptedProcess } from "./ProcessRunner.js"
import { PrompterLive, PrompterScripted } from "./Prompter.js"
import { PromptPacksLive } from "./PromptPacks.js"
import { RunStoreLive } from "./RunStore.js"
import { RunBootstrapLive } from "./RunBootstrap.js"
import { RunCompletionLive } from "./RunCompletion.js"
import { RunEngineLive } from "./RunEngine.js"
import { RunPreparationLive } from "./RunPreparation.js"
import { StageCacheLive } from "./StageCache.js"
import { StageExecutionLive } from "./StageExecution.js"
import { TaskManagerLive } from "./TaskManager.js"
import { TaskStateStoreLive } from "./TaskStateStore.js"

/** The services the engine is built on that production and the test kit provide differently. */
export type EngineLeaves =
  | Entropy
  | OrchestratorConfig
  | CloudSync
  | Learning
  | ControlPlane
  | PromptPacks
  | Instructions
  | Prompter
  | ProcessRunner
  | Host
  | PipelineCatalog

/** What every command builds on, provided differently by production and the test kit. */
export type BaseLeaves = Files | BaseConfig

/**
 * The engine, read bottom-up: executors, the event bus and the task-level stores (metrics, task
 * state, experiences) -> the run's phases (bootstrap, completion, command stages, the stage loop,
 * preparation) -> the agents -> TaskManager and persistence -> RunEngine. Later layers in a stack
 * see the earlier ones and win, so customizations replace the defaults.
 */
export const orchestrationLayer = <
  A extends Agent = never,
  AE = never,
  AR = never,
  CE = never,
  CR = never,
  XE = never,
  XR = never,
  ME = never,
  MR = never
>(custom: AppCustomization<A, AE, AR, CE, CR, XE, XR, ME, MR> = {}) => {
  const agents = stackedOn(custom.agents, CliAgentsLive)
  const executors = stackedOn(custom.cloudExecutor, replacing(custom.executor, ExecutorLocal))
  return RunEngineLive.pipe(
    stackOn(CloudSyncWorkerLive),
    stackOn(PersistenceCoordinatorLive),
    stackOn(TaskManagerLive),
    stackOn(replacing(custom.modePolicy, ExecutionModePolicyDefault)),
    stackOn(agents),
    stackOn(RunPreparationLive),
    stackOn(StageExecutionLive),
    stackOn(CommandStageRunnerLive),
    stackOn(StageCacheLive),
    stackOn(RunCompletionLive),
    stackOn(RunBootstrapLive),
    stackOn(ExperienceStoreLive),
    stackOn(TaskStateStoreLive),
    stackOn(MetricsRecorderLive),
    stackOn(EventBusLive),
    stackOn(executors)
  )
}

/** What every command builds on: reading runs, and the run store, on the given configuration and files. */
export const baseGraph = <L, E, R>(leaves: Layer.Layer<L, E, R>) => RunStoreLive.pipe(stackOn(readingGraph(leaves)))

/**
 * The one app graph: the engine on its leaves (EngineLeaves), on the base services on theirs
 * (BaseLeaves). Production (makeAppLayer) and the test kit (AppMemory) are this function of their
 * leaves, so every test runs the production wiring. A leaf that is missing shows as a requirement.
 */
export const appGraph = <L1, E1, R1, L2, E2, R2,
  A extends Agent = never,
  AE = never,
  AR = never,
  CE = never,
  CR = never,
  XE = never,
  XR = never,
  ME = never,
  MR = never
>(
  custom: AppCustomization<A, AE, AR, CE, CR, XE, XR, ME, MR>,
  leaves: {
    readonly engine: Layer.Layer<L1, E1, R1>
    readonly base: Layer.Layer<L2, E2, R2>
  }
) => orchestrationLayer(custom).pipe(stackOn(leaves.engine), Layer.provideMerge(baseGraph(leaves.base)))

/** The settings an app gives in code: the roots and any other setting; each wins over its environment variable. */
export type AppSettings = BaseOverrides & EngineOverrides

/**
 * makeAppLayer's options: the customizations, plus the settings as a typed value, pipelines defined
 * in code (merged after the repository file's) and the process runner. Like the customizations, the
 * process runner may need services of its own and fail (PE, PR).
 */
export interface AppOptions<
  A extends Agent = never,
  AE = never,
  AR = never,
  CE = never,
  CR = never,
  XE = never,
  XR = never,
  ME = never,
  MR = never,
  PE = never,
  PR = never
> extends AppCustomization<A, AE, AR, CE, CR, XE, XR, ME, MR> {
  readonly settings?: AppSettings | undefined
  readonly pipelines?: ReadonlyArray<PipelineDefinition> | undefined
  readonly processRunner?: Layer.Layer<ProcessRunner, PE, PR> | undefined
}

/** Production's engine leaves: processes, the terminal, the repository's files, HTTP for cloud sync. */
const liveEngineLeaves = <PE = never, PR = never>(options: {
  readonly settings?: AppSettings | undefined
  readonly pipelines?: ReadonlyArray<PipelineDefinition> | undefined
  readonly processRunner?: Layer.Layer<ProcessRunner, PE, PR> | undefined
}) =>
  CloudSyncLive.pipe(Layer.provide(Layer.merge(CredentialBrokerLive, FetchHttpClient.layer))).pipe(
    stackOn(LearningLive),
    stackOn(ControlPlaneLive),
    stackOn(PromptPacksLive),
    stackOn(InstructionsLive),
    stackOn(PrompterLive),
    stackOn(replacing(options.processRunner, ProcessRunnerLive)),
    stackOn(EntropyLive),
    stackOn(HostLive),
    stackOn(checkingPipelinesInCode(PipelineCatalogLive(undefined, options.pipelines), options.pipelines)),
    // The engine's settings, on the base ones below it: a bad engine setting fails only this graph.
    stackOn(OrchestratorConfigWith(options.settings ?? {}))
  )

/** Production's base leaves: the base settings (paths, run timings; `settings` over the environment) and the disk. */
const liveBaseLeaves = (settings: AppSettings = {}) => FilesLive.pipe(stackOn(BaseConfigWith(settings)))

/**
 * What every command builds on: configuration, files, the run reader and the run store. The CLI
 * provides this to every command and loads the engine above it only for the commands that run
 * pipelines. Platform left open.
 */
export const AppBaseLive = baseGraph(liveBaseLeaves())

/** AppBaseLive with settings given in code (the roots, say) over the environment's. */
export const makeAppBaseLayer = (settings: AppSettings) => baseGraph(liveBaseLeaves(settings))

/**
 * The engine on top of AppBaseLive (or makeAppBaseLayer), with production's leaves. Needs the base
 * services and the platform. The CLI's pipeline commands run on `engineLayer()`;
 * `codex-orchestrator/cli`'s `rootCommandOn(name, engineLayer(options))` mounts them on an app's.
 */
export const engineLayer = <
  A extends Agent = never,
  AE = never,
  AR = never,
  CE = never,
  CR = never,
  XE = never,
  XR = never,
  ME = never,
  MR = never,
  PE = never,
  PR = never
>(options: AppOptions<A, AE, AR, CE, CR, XE, XR, ME, MR, PE, PR> = {}) =>
  orchestrationLayer(options).pipe(stackOn(liveEngineLeaves(options)))

/**
 * The whole production graph on an app's options (settings, pipelines in code, executors, process
 * runner, agents, mode policy); the platform (FileSystem, Path, CommandExecutor) is left open, and
 * so is whatever the options' layers need that the graph does not provide.
 */
export const makeAppLayer = <
  A extends Agent = never,
  AE = never,
  AR = never,
  CE = never,
  CR = never,
  XE = never,
  XR = never,
  ME = never,
  MR = never,
  PE = never,
  PR = never
>(options: AppOptions<A, AE, AR, CE, CR, XE, XR, ME, MR, PE, PR> = {}) =>
  appGraph(options, { engine: liveEngineLeaves(options), base: liveBaseLeaves(options.settings) })

/** The production graph with the CLI's agents, the local executor and the default mode policy; the platform is left open. */
export const AppLayer = makeAppLayer()

/** Every service the app provides (production's graph): what a program run on AppLive or makeAppLayer may use. */
export type AppServices = Layer.Layer.Success<typeof AppLayer>

/** How building the production graph can fail (a bad setting, an unreadable file it needs at start). */
export type AppError = Layer.Layer.Error<typeof AppLayer>

/** Every service AppBaseLive provides: what the commands that only read runs use. */
export type AppBaseServices = Layer.Layer.Success<typeof AppBaseLive>

/** Production: real processes, disk and environment. Provided by src/cli/main.ts. */
export const AppLive = AppLayer.pipe(Layer.provideMerge(NodeContext.layer))

/** AppMemory's options: makeAppLayer's customizations plus scripted processes and prompts, pipelines, settings and in-memory inputs. */
export interface MemoryAppOptions<
  A extends Agent = never,
  AE = never,
  AR = never,
  CE = never,
  CR = never,
  XE = never,
  XR = never,
  ME = never,
  MR = never
> extends AppCustomization<A, AE, AR, CE, CR, XE, XR, ME, MR> {
  readonly repoRoot?: string
  /** The seed of the ids and tokens a run draws (run id suffix, resume token, uuids); 0 unless given. */
  readonly seed?: number
  readonly scripts?: Parameters<typeof ProcessRunnerMemory>[0]
  readonly pipelines?: Partial<PipelineCatalogData>
  readonly settings?: Partial<OrchestratorSettings>
  readonly host?: Parameters<typeof HostMemory>[0]
  /** Scripted answers to approval prompts, by approval key; unanswered keys are `unavailable`. */
  readonly approvals?: Parameters<typeof PrompterScripted>[0]
  /** How long the scripted person takes to answer each approval prompt (none unless given). */
  readonly approvalThinkTime?: Parameters<typeof PrompterScripted>[1]
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
 * The test kit's catalog: the pipelines given, and the package's built-in pipelines unless
 * `builtins` is given, so the set is production's. Only the built-ins' folder of the package is read
 * (once, when the layer is built); runs never touch the disk.
 */
const memoryCatalog = (data: Partial<PipelineCatalogData>) =>
  data.builtins === undefined
    ? Layer.unwrapEffect(
      readBuiltinPipelines().pipe(
        // The package's folder on disk, not the test's in-memory files.
        Effect.provide(FilesLive.pipe(Layer.provideMerge(Layer.merge(NodeFileSystem.layer, Path.layer)))),
        Effect.orDie,
        Effect.map((builtins) => PipelineCatalogMemory({ ...data, builtins }))
      )
    )
    : PipelineCatalogMemory(data)

/** The test kit's engine leaves: scripted processes and prompts, a fixed catalog, in-memory adapters. */
const memoryEngineLeaves = (options: Omit<MemoryAppOptions, keyof AppCustomization>) =>
  (options.cloudSync ?? CloudSyncDisabled).pipe(
    stackOn(LearningMemory({ enabled: false, ...options.learning })),
    stackOn(ControlPlaneMemory(options.controlPlane)),
    stackOn(PromptPacksLive),
    stackOn(InstructionsLive),
    stackOn(PrompterScripted(options.approvals, options.approvalThinkTime)),
    stackOn(ProcessRunnerMemory(options.scripts ?? {})),
    stackOn(EntropySeeded(options.seed ?? 0)),
    stackOn(HostMemory(options.host)),
    stackOn(checkingPipelinesInCode(memoryCatalog(options.pipelines ?? {}), options.pipelines?.user))
  )

/**
 * The deterministic test kit (B-4): the production graph (appGraph) on scripted processes, in-memory
 * files and a fixed catalog. No processes, no disk; time is the Clock (TestClock in tests). Also
 * provides ProcessInvocations and InMemoryFiles to inspect what happened.
 */
export const AppMemory = <
  A extends Agent = never,
  AE = never,
  AR = never,
  CE = never,
  CR = never,
  XE = never,
  XR = never,
  ME = never,
  MR = never
>(options: MemoryAppOptions<A, AE, AR, CE, CR, XE, XR, ME, MR> = {}) =>
  appGraph(options, {
    engine: memoryEngineLeaves(options),
    // The repository's instruction and prompt pack files are in the in-memory files, read by the Live layers.
    base: FilesMemorySeeded(options.repoRoot ?? "/repo", { ...options.instructions, ...options.promptPacks }).pipe(
      stackOn(OrchestratorConfigTest(options.repoRoot ?? "/repo", options.settings))
    )
  }).pipe(Layer.provideMerge(Path.layer))

export type { Agent, AppCustomization, ScriptedProcess }
