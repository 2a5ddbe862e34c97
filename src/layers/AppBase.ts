import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { Layer } from "effect"
import { FilesLive } from "./Files.js"
import { stackOn } from "./internal/layerStack.js"
import { BaseConfigLive } from "./BaseConfig.js"
import { RunReaderLive } from "./RunReader.js"

/** Reading runs on the given leaves (Files and BaseConfig; what they lack shows as a requirement). */
export const readingGraph = <L, E, R>(leaves: Layer.Layer<L, E, R>) => RunReaderLive.pipe(stackOn(leaves))

/**
 * What reading runs needs: the base settings (paths and run timings only, so no engine setting can
 * fail it), the files and the run reader. `status` runs on this
 * alone; everything else builds on App.ts's baseGraph. Its own module, importing nothing more, so that
 * `status` loads none of the rest (the status start-up target). Platform left open.
 */
export const RunReadingLive = readingGraph(FilesLive.pipe(stackOn(BaseConfigLive)))

/** RunReadingLive on Node's file system and paths: all `status` needs (it starts no processes). */
export const RunReadingNode = RunReadingLive.pipe(Layer.provideMerge(Layer.merge(NodeFileSystem.layer, NodePath.layer)))
