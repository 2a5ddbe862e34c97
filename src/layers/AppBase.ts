import { Layer } from "effect"
import { FilesLive } from "./Files.js"
import { OrchestratorConfigLive } from "./OrchestratorConfig.js"
import { RunReaderLive } from "./RunReader.js"
import { RunStoreLive } from "./RunStore.js"

/**
 * What reading runs needs, and what everything else builds on: the configuration, the files, the
 * run store and the run reader. The CLI provides this to every command and loads the engine above
 * it only for the commands that run pipelines, so `status` starts without it. Platform left open.
 */
export const AppBaseLive = RunReaderLive.pipe(
  Layer.provideMerge(RunStoreLive),
  Layer.provideMerge(FilesLive),
  Layer.provideMerge(OrchestratorConfigLive)
)
