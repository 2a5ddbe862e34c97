/**
 * Where the design toolkit's files go (SPEC DES-3): a run's artifacts under
 * `<runsRoot>/<task>/<run>/artifacts/design-toolkit/<kind>/<slug>/` (the run's own folder, not
 * `cli/`), its record under `<outRoot>/<task>/design/runs/<run>.json`. Pure: the path
 * implementation is passed in, and a segment that could leave its folder is refused, not cleaned.
 */
import type { Path } from "@effect/platform"
import { Schema } from "effect"
import { idProblem } from "./Ids.js"
import type { Roots } from "./RunLayout.js"

export const ArtifactKind = Schema.Literal("context", "tokens", "styleguide", "reference", "diffs")
export type ArtifactKind = typeof ArtifactKind.Type

/** A folder or file name we were asked to write to that could leave the artifacts folder (`..`, a slash). */
export class UnsafeArtifactPath extends Schema.TaggedError<UnsafeArtifactPath>()("UnsafeArtifactPath", {
  segment: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `refusing the artifact path segment ${JSON.stringify(this.segment)}: ${this.reason}. ` +
      "Use letters, digits, '-', '_' or '.' (DES-3)."
  }
}

/** DES-3: one path segment, checked as ids are (ID-1): no `..`, no slashes, no leading dot. */
export const segmentProblem = (segment: string): string | undefined => {
  if (segment.split(/[/\\]/).includes("..")) return "`..` segments are not allowed"
  const problem = idProblem(segment)
  return problem === undefined ? undefined : problem.replace(/\.$/, "")
}

/** Joins `segments` under `base`, each checked; the result never leaves `base`. */
export const safeJoin = (path: Path.Path, base: string, ...segments: ReadonlyArray<string>): string | UnsafeArtifactPath => {
  for (const segment of segments) {
    const problem = segmentProblem(segment)
    if (problem !== undefined) return new UnsafeArtifactPath({ segment, reason: problem })
  }
  return path.join(base, ...segments)
}

/** Every path of one run's design artifacts. */
export const makeDesignLayout = (path: Path.Path, roots: Roots, taskId: string, runId: string) => {
  const root = path.join(roots.runsRoot, taskId, runId, "artifacts", "design-toolkit")
  return {
    taskId,
    runId,
    root,
    /** `<root>/<kind>/<slug>`, or the refusal of a slug that could leave it. */
    dir: (kind: ArtifactKind, slug: string) => safeJoin(path, path.join(root, kind), slug),
    /** DES-3's `publish/logs/<slug>`, or the refusal of a slug that could leave it. */
    publishLogs: (slug: string) => safeJoin(path, path.join(root, "publish", "logs"), slug),
    /** DES-3's out record: `<outRoot>/<task>/design/runs/<run>.json`. */
    outRecord: path.join(roots.outRoot, taskId, "design", "runs", `${runId}.json`),
    /** Repository-relative, as recorded in JSON. */
    relative: (absolute: string) => path.relative(roots.repoRoot, absolute)
  }
}
export type DesignLayout = ReturnType<typeof makeDesignLayout>
