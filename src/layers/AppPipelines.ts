/**
 * Pipelines an app gives in code (makeAppLayer's and AppMemory's `pipelines`), checked as the
 * repository's codex.orchestrator.json is (CFG-2): the same schema, so a pipeline the file would
 * refuse (duplicate stage ids, `needs` naming no stage, concurrency under 1, no stages) fails the
 * catalog's `load` with InvalidFile, and `plan`/`start` with it, before anything is written or run.
 */
import { Effect, Either, Layer, Schema } from "effect"
import { formatIssues, InvalidFile } from "../domain/FileErrors.js"
import { PipelineDefinition } from "../domain/Pipeline.js"
import { PipelineCatalog } from "../services/PipelineCatalog.js"

const hint = "Fix the fields listed; pipelines in code are checked as codex.orchestrator.json's are."

/** The first problem of the pipelines given in code (a pipeline's bad fields, or an id given twice); undefined when none. */
export const inCodeProblem = (pipelines: ReadonlyArray<PipelineDefinition>): InvalidFile | undefined => {
  const seen = new Set<string>()
  for (const [index, definition] of pipelines.entries()) {
    const checked = Schema.validateEither(PipelineDefinition, { errors: "all" })(definition)
    const shown = typeof definition?.id === "string" ? `pipeline '${definition.id}' (given in code)` : `pipeline ${index} (given in code)`
    if (Either.isLeft(checked)) return new InvalidFile({ path: shown, issues: formatIssues(checked.left), hint })
    if (seen.has(definition.id)) {
      return new InvalidFile({
        path: "the pipelines given in code",
        issues: [`${index}.id: duplicate pipeline id "${definition.id}"; pipeline ids must be unique`],
        hint
      })
    }
    seen.add(definition.id)
  }
  return undefined
}

/** `catalog` whose `load` fails with the pipelines' first problem, when they have one (checked once, when the layer is built). */
export const checkingPipelinesInCode = <E, R>(
  catalog: Layer.Layer<PipelineCatalog, E, R>,
  pipelines: ReadonlyArray<PipelineDefinition> | undefined
): Layer.Layer<PipelineCatalog, E, R> =>
  pipelines === undefined || pipelines.length === 0
    ? catalog
    : Layer.effect(
      PipelineCatalog,
      Effect.gen(function*() {
        const inner = yield* PipelineCatalog
        const problem = inCodeProblem(pipelines)
        return problem === undefined ? inner : PipelineCatalog.of({ ...inner, load: Effect.fail(problem) })
      })
    ).pipe(Layer.provide(catalog))
