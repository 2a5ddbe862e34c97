/** GRD-4 `--sync`: reads the task's source checklist and writes its two mirrors (see domain/DocsSync.ts). */
import type { Path } from "@effect/platform"
import { Effect } from "effect"
import { checklistOf, renderAgentMirror, withManagedBlock } from "../../domain/DocsSync.js"
import { decodeJsonFile } from "../../domain/FileErrors.js"
import { idFixHint, idProblem } from "../../domain/Ids.js"
import { TaskIndexFile, taskIndexFileName } from "../../domain/Pipeline.js"
import type { Files } from "../../services/Files.js"
import { DocsSyncError } from "../../services/Guards.js"

/** Writes only when the content changed, so an unchanged mirror keeps its timestamp. */
const writeIfChanged = (files: typeof Files.Service, path: Path.Path, target: string, text: string) =>
  Effect.gen(function*() {
    if ((yield* files.readText(target)) === text) return false
    yield* files.makeDirectory(path.dirname(target))
    yield* files.writeAtomic(target, text)
    return true
  })

/** `taskArg` is `<id>` or `<id>-<slug>`; the id must be in tasks/index.json with that slug. */
export const syncTaskDocs = (files: typeof Files.Service, path: Path.Path, root: string) =>
  Effect.fn("Guards.syncDocs")(function*(taskArg: string) {
    const indexText = yield* files.readText(path.join(root, taskIndexFileName))
    if (indexText === undefined) {
      return yield* new DocsSyncError({ reason: `${taskIndexFileName} is missing; add the task there ({"items": [{"id", "slug", "title"}]}).` })
    }
    const index = yield* decodeJsonFile(TaskIndexFile, taskIndexFileName)(indexText)
    const item = index.items.find((entry) => entry.id === taskArg || taskArg === `${entry.id}-${entry.slug}`)
    if (item === undefined) {
      return yield* new DocsSyncError({ reason: `Task "${taskArg}" is not in ${taskIndexFileName}; add it or pass one of its ids.` })
    }
    const key = `${item.id}-${item.slug}`
    // The key names files (tasks/tasks-<key>.md, .agent/task/<key>.md): one name, never a path (ID-1's rules).
    const problem = idProblem(key)
    if (problem !== undefined) {
      return yield* new DocsSyncError({
        reason: `${taskIndexFileName}: task ${JSON.stringify(item.id)} with slug ${JSON.stringify(item.slug)} cannot name its ` +
          `checklist file: ${problem} ${idFixHint}`
      })
    }
    const sourcePath = `tasks/tasks-${key}.md`
    const source = yield* files.readText(path.join(root, sourcePath))
    if (source === undefined) return yield* new DocsSyncError({ reason: `${sourcePath} is missing; the task's checklist lives there.` })
    const checklist = checklistOf(source)
    if (checklist === undefined) return yield* new DocsSyncError({ reason: `${sourcePath} has no "## Checklist" section.` })
    const tasksPath = "docs/TASKS.md"
    const current = (yield* files.readText(path.join(root, tasksPath))) ?? ""
    const updated = withManagedBlock(current, key, checklist)
    if (updated === undefined) {
      return yield* new DocsSyncError({ reason: `${tasksPath}: the docs-sync markers for ${key} are out of order; fix or remove them.` })
    }
    const mirrorPath = `.agent/task/${key}.md`
    const written: Array<string> = []
    if (yield* writeIfChanged(files, path, path.join(root, mirrorPath), renderAgentMirror(item.id, key, source, checklist))) written.push(mirrorPath)
    if (yield* writeIfChanged(files, path, path.join(root, tasksPath), updated)) written.push(tasksPath)
    return written
  })
