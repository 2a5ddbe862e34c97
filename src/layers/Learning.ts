import { Path } from "@effect/platform"
import { Effect, Layer, Option } from "effect"
import {
  snapshotDirVariable,
  snapshotFolderIsFile,
  snapshotFolderIsRepository,
  snapshotFolderUnderFile
} from "../domain/LearningSnapshotPaths.js"
import type { PrivacyMode } from "../domain/Privacy.js"
import { decodeSettings, InvalidSetting, learningSection } from "../domain/Settings.js"
import { BaseConfig } from "../services/BaseConfig.js"
import { Files } from "../services/Files.js"
import { Learning } from "../services/Learning.js"
import { Entropy } from "../services/Entropy.js"
import { makeLearning } from "./internal/learningCapture.js"
import { SnapshotArchiveLive, SnapshotArchiveMemory } from "./SnapshotArchive.js"

/**
 * Decodes the `learning` section: `LEARNING_PIPELINE_ENABLED` (exactly `1`, LRN-1) and
 * `LEARNING_SNAPSHOT_DIR` (a relative value resolves against the process working directory, like the
 * root overrides of ENV-2; with learning on, one that names a file, lies under one, or names the
 * repository itself is InvalidSetting). Git and
 * the scenario run through the ProcessRunner, records go through Files, the tarball is streamed to
 * disk by SnapshotArchiveLive.
 */
export const LearningLive = Layer.effect(
  Learning,
  Effect.gen(function*() {
    const path = yield* Path.Path
    const files = yield* Files
    const env = yield* decodeSettings(learningSection)
    const { privacyMode, roots } = yield* BaseConfig
    const snapshotDir = env.snapshotDir === undefined ? undefined : path.resolve(env.snapshotDir)
    // A file there stops every snapshot: bad input, said before anything runs, not after each run.
    if (env.enabled && snapshotDir !== undefined) {
      // The folder, else the nearest of its parents that exists: a file there (`/etc/hosts/snaps`) stops every snapshot too.
      let found = snapshotDir
      let info = yield* files.info(found).pipe(Effect.orElseSucceed(() => undefined))
      while (info === undefined && path.dirname(found) !== found) {
        found = path.dirname(found)
        info = yield* files.info(found).pipe(Effect.orElseSucceed(() => undefined))
      }
      if (info !== undefined && info.type !== "directory") {
        const detail = found === snapshotDir ? snapshotFolderIsFile(snapshotDir, true) : snapshotFolderUnderFile(snapshotDir, found)
        return yield* new InvalidSetting({ variable: snapshotDirVariable, detail })
      }
      // The repository itself cannot be left out of its own snapshots: every one would stall validation.
      const real = (folder: string) => Effect.map(files.realPath(folder), (found) => found ?? folder).pipe(Effect.orElseSucceed(() => folder))
      if ((yield* real(snapshotDir)) === (yield* real(roots.repoRoot))) {
        return yield* new InvalidSetting({ variable: snapshotDirVariable, detail: snapshotFolderIsRepository(snapshotDir) })
      }
    }
    const service = yield* makeLearning({
      enabled: env.enabled,
      snapshotDir,
      snapshotId: (yield* Entropy).uuid,
      privacyMode
    })
    return Learning.of(service)
  })
).pipe(Layer.provide(SnapshotArchiveLive))

/** LearningMemory's default tag id. */
export const memorySnapshotId = "00000000-0000-4000-8000-000000000000"

/** LearningMemory's options: whether the pipeline is on, where snapshots go, their id, and scripted pack failures. */
export interface LearningMemoryOptions {
  /** On by default: a test of the pipeline wants it to run. */
  readonly enabled?: boolean
  /** Absolute; `<runsRoot>/learning-snapshots` by default. */
  readonly snapshotDir?: string
  /** The tag's `<uuid>`, fixed so tests can script `git tag -f learning-snapshot-<id> <commit>`. */
  readonly snapshotId?: string
  /** The first packs fail with these reasons, one per attempt (see SnapshotArchiveMemory). */
  readonly packFailures?: ReadonlyArray<string>
  /** Whether learning's records are redacted (D-13); the app's BaseConfig's mode when there is one, else shadow. */
  readonly privacyMode?: PrivacyMode
}

/**
 * The same pipeline without disk or Config: the tarball is SnapshotArchiveMemory's, records go to
 * the Files provided (FilesMemory in tests), git answers come from the ProcessRunner provided
 * (ProcessRunnerMemory with scripted git commands). Retries wait on the Clock, so TestClock drives them.
 */
export const LearningMemory = (options: LearningMemoryOptions = {}) =>
  Layer.effect(
    Learning,
    Effect.gen(function*() {
      const base = yield* Effect.serviceOption(BaseConfig)
      const service = yield* makeLearning({
        enabled: options.enabled ?? true,
        snapshotDir: options.snapshotDir,
        snapshotId: Effect.succeed(options.snapshotId ?? memorySnapshotId),
        privacyMode: options.privacyMode ?? Option.match(base, { onNone: () => "shadow" as const, onSome: (config) => config.privacyMode })
      })
      return Learning.of(service)
    })
  ).pipe(Layer.provide(SnapshotArchiveMemory(options.packFailures)))
