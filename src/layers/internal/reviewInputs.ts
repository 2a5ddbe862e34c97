/** What the review hand-off reads besides git: the evidence manifest and the task's context (GRD-5 steps 2 and 5). */
import type { Path } from "@effect/platform"
import { Effect, Option, Schema } from "effect"
import { idProblem } from "../../domain/Ids.js"
import { TaskIndexFile, taskIndexFileName } from "../../domain/Pipeline.js"
import { checklistLines, prdBulletsOf } from "../../domain/ReviewPrompt.js"
import type { Roots } from "../../domain/RunLayout.js"
import type { Files } from "../../services/Files.js"
import { ReviewNotReady, type ReviewRequest } from "../../services/ReviewHandoff.js"

const TaskIndexJson = Schema.parseJson(TaskIndexFile)

/** What the hand-off reads of a manifest: its task. */
export const ManifestTask = Schema.parseJson(Schema.Struct({ task_id: Schema.String }))

const noManifest = "No run manifests found. Provide --manifest or execute the orchestrator first."

export const reviewInputs = (files: typeof Files.Service, path: Path.Path, roots: Roots) => {
  const root = roots.repoRoot
  const isFolder = (dir: string) => Effect.map(files.info(dir), (info) => info?.type === "directory")

  /** The newest `<runs>/<task>/cli/<run>/manifest.json` by modification time, of one task or all. */
  const newestManifest = (runsDir: string, task: string | undefined) =>
    Effect.gen(function*() {
      let newest: { path: string; at: number } | undefined
      for (const taskDir of task === undefined ? yield* files.list(runsDir) : [task]) {
        // A note or any other file kept in the runs folder is no task's folder: skipped, not listed.
        if (!(yield* isFolder(path.join(runsDir, taskDir))) || !(yield* isFolder(path.join(runsDir, taskDir, "cli")))) continue
        for (const run of yield* files.list(path.join(runsDir, taskDir, "cli"))) {
          const candidate = path.join(runsDir, taskDir, "cli", run, "manifest.json")
          const at = yield* files.modifiedAt(candidate)
          if (at !== undefined && (newest === undefined || at > newest.at)) newest = { path: candidate, at }
        }
      }
      return newest?.path
    })

  const findManifest = (request: ReviewRequest) =>
    Effect.gen(function*() {
      if (request.manifest !== undefined) {
        const explicit = path.resolve(request.manifest)
        const type = (yield* files.info(explicit))?.type
        if (type !== "file") {
          const what = type === undefined ? "does not exist" : type === "directory" ? "is a folder" : "is not a file"
          return yield* new ReviewNotReady({ reason: `Manifest ${request.manifest} ${what}; pass the manifest.json of a run.` })
        }
        // The prompt is saved beside it, so a file that is not a run's manifest is refused, not written next to.
        if (Option.isNone(Schema.decodeUnknownOption(ManifestTask)((yield* files.readText(explicit)) ?? ""))) {
          return yield* new ReviewNotReady({
            reason: `Manifest ${request.manifest} is not a run manifest (JSON with a task_id); pass the manifest.json of a run.`
          })
        }
        return explicit
      }
      const runsDir = request.runsDir === undefined ? roots.runsRoot : path.resolve(request.runsDir)
      const found = yield* newestManifest(runsDir, request.task)
      return found ?? (yield* new ReviewNotReady({ reason: noManifest }))
    })

  /** The task's checklist file (via tasks/index.json's slug) and the PRD's bullets, when present. */
  const taskContext = (task: string) =>
    Effect.gen(function*() {
      const indexText = yield* files.readText(path.join(root, taskIndexFileName))
      const index = indexText === undefined ? undefined : Option.getOrUndefined(Schema.decodeUnknownOption(TaskIndexJson)(indexText))
      const item = index?.items.find((entry) => entry.id === task)
      const key = item === undefined ? task : `${item.id}-${item.slug}`
      const taskPath = `tasks/tasks-${key}.md`
      // A key that is a path (a slug with '/' or '..') is not followed out of tasks/: no checklist then.
      const taskText = idProblem(key) === undefined ? yield* files.readText(path.join(root, taskPath)) : undefined
      const prd = yield* files.readText(path.join(root, "docs", "PRD.md"))
      return {
        taskFile: taskText === undefined ? undefined : { path: taskPath, checklist: checklistLines(taskText) },
        prdBullets: prd === undefined ? [] : prdBulletsOf(prd)
      }
    })

  return { findManifest, taskContext }
}
