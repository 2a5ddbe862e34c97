import { FilesLive } from "./Files.js"
import { stackOn } from "./internal/layerStack.js"
import { OrchestratorConfigLive } from "./OrchestratorConfig.js"
import { RunReaderLive } from "./RunReader.js"
import { RunStoreLive } from "./RunStore.js"

/**
 * What reading runs needs, and what everything else builds on: the configuration, the files, the
 * run store and the run reader. The CLI provides this to every command and loads the engine above
 * it only for the commands that run pipelines, so `status` starts without it. Platform left open.
 * Every command builds it, so it is stacked (see stackOn) rather than chained with provideMerge.
 */
export const AppBaseLive = RunReaderLive.pipe(
  stackOn(RunStoreLive),
  stackOn(FilesLive),
  stackOn(OrchestratorConfigLive)
)
