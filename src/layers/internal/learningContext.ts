/**
 * What every step of a learning capture (snapshot, scenario, validation) works with: the services,
 * the run's files under `learning/`, the prompt, the folders never packed, and git on the repository.
 */
import type { Path } from "@effect/platform"
import { Effect, type Ref } from "effect"
import type { LearningSection } from "../../domain/LearningRecords.js"
import { excludedFolders } from "../../domain/LearningSnapshotPaths.js"
import type { RunRef } from "../../domain/LearningStatus.js"
import type { RunLayout } from "../../domain/RunLayout.js"
import type { Files } from "../../services/Files.js"
import type { ProcessRunner, ProcessSpawnError } from "../../services/ProcessRunner.js"
import type { SnapshotArchive } from "../../services/SnapshotArchive.js"
import { type CapturedProcess, describeFailure, runCaptured, succeeded } from "./learningGit.js"

export interface LearningServices {
  readonly files: Files["Type"]
  readonly archive: SnapshotArchive["Type"]
  readonly runner: ProcessRunner["Type"]
  readonly path: Path.Path
}

export interface CaptureContext extends LearningServices {
  readonly layout: RunLayout
  readonly run: RunRef
  /** The section as the steps so far left it. */
  readonly section: Ref.Ref<LearningSection>
  /** A file under the run's `learning/` folder. */
  readonly at: (name: string) => string
  readonly snapshotRoot: string
  /** Whether `snapshotRoot` is `LEARNING_SNAPSHOT_DIR`'s (else the default under the runs root). */
  readonly snapshotRootGiven: boolean
  /** The prompt the run was started with (`start --prompt-file`, or `prompt` in the library), if any. */
  readonly prompt: string | undefined
  /** What the orchestrator itself writes inside the repository: never packed, never dirt. */
  readonly excluded: ReadonlyArray<string>
  readonly git: (command: string) => Effect.Effect<CapturedProcess, ProcessSpawnError>
  /**
   * `git status` of the repository root's part of the work tree (the root may be a subfolder of
   * it), with the root's prefix to make git's top-relative paths root-relative.
   */
  readonly workTreeStatus: Effect.Effect<WorkTreeStatus, ProcessSpawnError>
}

export type WorkTreeStatus =
  | { readonly _tag: "Failed"; readonly failure: string }
  | { readonly _tag: "Read"; readonly porcelainZ: string; readonly prefix: string }

export const makeCaptureContext = (
  services: LearningServices,
  input: { readonly layout: RunLayout; readonly section: Ref.Ref<LearningSection>; readonly snapshotDir: string | undefined }
) =>
  Effect.gen(function*() {
    const { files, path, runner } = services
    const { layout } = input
    const { roots } = layout
    const dir = path.join(layout.runDir, "learning")
    const snapshotRoot = input.snapshotDir ?? path.join(roots.runsRoot, "learning-snapshots")
    const prompt = yield* files.readText(layout.prompt).pipe(Effect.orElseSucceed(() => undefined))
    // Real paths, as git sees the tree: a folder not made yet is its parent's real path and its name.
    const real = (target: string) =>
      Effect.flatMap(files.realPath(target), (found) =>
        found !== undefined
          ? Effect.succeed(found)
          : Effect.map(files.realPath(path.dirname(target)), (parent) => path.join(parent ?? path.dirname(target), path.basename(target)))
      ).pipe(Effect.orElseSucceed(() => target))
    const excluded = excludedFolders(
      yield* real(roots.repoRoot),
      yield* Effect.forEach([roots.runsRoot, roots.outRoot, snapshotRoot], real),
      path.sep
    )
    const git = runCaptured(runner, roots.repoRoot)
    const workTreeStatus = Effect.gen(function*() {
      const prefix = yield* git("git rev-parse --show-prefix")
      if (!succeeded(prefix)) return { _tag: "Failed", failure: describeFailure(prefix) } as const
      const status = yield* git("git status --porcelain -z --untracked-files=all -- .")
      if (!succeeded(status)) return { _tag: "Failed", failure: describeFailure(status) } as const
      return { _tag: "Read", porcelainZ: status.stdout, prefix: prefix.stdout.trim() } as const
    })
    const context: CaptureContext = {
      ...services,
      layout,
      run: { taskId: layout.taskId, runId: layout.runId },
      section: input.section,
      at: (name) => path.join(dir, name),
      snapshotRoot,
      snapshotRootGiven: input.snapshotDir !== undefined,
      prompt,
      excluded,
      git,
      workTreeStatus
    }
    return { context, dir }
  })
