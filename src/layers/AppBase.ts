import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { Layer } from "effect"
import { FilesLive } from "./Files.js"
import { stackOn } from "./internal/layerStack.js"
import { BaseConfigLive } from "./BaseConfig.js"
import { RunReaderLive } from "./RunReader.js"

/**
 * What reading runs needs: the base settings (paths and run timings only, so no engine setting can
 * fail it), the files and the run reader. `status` runs on this
 * alone; everything else builds on it (AppBaseLive in App.ts adds the run store, the engine goes on
 * top). Its own module, importing nothing more, so that `status` loads none of the rest (issue 3's
 * start-up target). Platform left open. Stacked (see stackOn) rather than chained with provideMerge.
 */
export const RunReadingLive = RunReaderLive.pipe(
  stackOn(FilesLive),
  stackOn(BaseConfigLive)
)

/** RunReadingLive on Node's file system and paths: all `status` needs (it starts no processes). */
export const RunReadingNode = RunReadingLive.pipe(Layer.provideMerge(Layer.merge(NodeFileSystem.layer, NodePath.layer)))
