import { Duration, Effect, Layer } from "effect"
import type { PrivacyMode } from "../domain/Privacy.js"
import { Files } from "../services/Files.js"
import { BaseConfig } from "../services/BaseConfig.js"
import { RunStore } from "../services/RunStore.js"
import { FilesMemory } from "./Files.js"
import { runStoreOf } from "./internal/runFiles.js"

/**
 * Runs under the runs root, on whatever Files interpreter is provided (disk in production, memory
 * in the test kit), with the heartbeat interval and privacy mode of the configuration.
 */
export const RunStoreLive = Layer.effect(
  RunStore,
  Effect.gen(function*() {
    const files = yield* Files
    const config = yield* BaseConfig
    return runStoreOf(files, config.heartbeatInterval, config.privacyMode)
  })
)

/**
 * A run store on its own in-memory files (FilesMemory, also provided, with InMemoryFiles to inspect
 * them). Manifests are stored encoded, so the schema round-trip is exercised too.
 */
export const RunStoreMemory = (
  coalesceWindow: Duration.DurationInput = Duration.seconds(5),
  privacy: PrivacyMode = "shadow"
) =>
  Layer.effect(RunStore, Effect.map(Files, (files) => runStoreOf(files, Duration.decode(coalesceWindow), privacy))).pipe(
    Layer.provideMerge(FilesMemory)
  )
