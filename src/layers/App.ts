import { Path } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Layer } from "effect"
import type { PipelineCatalogData } from "../domain/Pipeline.js"
import type { OrchestratorSettings } from "../services/OrchestratorConfig.js"
import { FilesLive, FilesMemory } from "./Files.js"
import { HostLive, HostMemory } from "./Host.js"
import { InstructionsLive, InstructionsMemory } from "./Instructions.js"
import { OrchestratorConfigLive, OrchestratorConfigTest } from "./OrchestratorConfig.js"
import { PipelineCatalogLive, PipelineCatalogMemory } from "./PipelineCatalog.js"
import { PrompterLive, PrompterScripted } from "./Prompter.js"
import { PromptPacksLive, PromptPacksMemory } from "./PromptPacks.js"
import { ProcessRunnerLive, ProcessRunnerMemory, type ScriptedProcess } from "./ProcessRunner.js"
import { RunEngineLive } from "./RunEngine.js"
import { RunStoreLive } from "./RunStore.js"

/**
 * The whole graph, read bottom-up: config -> { pipelines, processes, run store } -> engine.
 * The platform (FileSystem, Path, CommandExecutor) is left open.
 */
export const AppLayer = RunEngineLive.pipe(
  Layer.provideMerge(Layer.mergeAll(
    PipelineCatalogLive(),
    ProcessRunnerLive,
    RunStoreLive,
    HostLive,
    PrompterLive,
    InstructionsLive,
    PromptPacksLive
  )),
  Layer.provideMerge(FilesLive),
  Layer.provideMerge(OrchestratorConfigLive)
)

/** Production: real processes, disk and environment. Provided by src/cli/main.ts. */
export const AppLive = AppLayer.pipe(Layer.provideMerge(NodeContext.layer))

export interface MemoryAppOptions {
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
}

/**
 * The deterministic test kit (DECISIONS B-4): the same engine on scripted processes, an in-memory
 * run store and a fixed catalog. No processes, no disk; time is the Clock (TestClock in tests).
 * Also provides ProcessInvocations and InMemoryFiles to inspect what happened.
 */
export const AppMemory = (options: MemoryAppOptions = {}) => {
  const repoRoot = options.repoRoot ?? "/repo"
  const config = OrchestratorConfigTest(repoRoot, options.settings)
  return RunEngineLive.pipe(
    Layer.provideMerge(Layer.mergeAll(
      PipelineCatalogMemory(options.pipelines ?? {}),
      ProcessRunnerMemory(options.scripts ?? {}),
      RunStoreLive,
      HostMemory(options.host),
      PrompterScripted(options.approvals),
      InstructionsMemory(options.instructions ?? {}),
      PromptPacksMemory(options.promptPacks ?? {})
    )),
    Layer.provideMerge(FilesMemory),
    Layer.provideMerge(config),
    Layer.provideMerge(Path.layer)
  )
}

export type { ScriptedProcess }
