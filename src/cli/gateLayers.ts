/**
 * The services the review-gate commands (guard, review, doctor) use on top of the base every command
 * has (configuration, files): git over real processes, the pipeline catalog, the guards.
 */
import { Layer } from "effect"
import { GitLive } from "../layers/Git.js"
import { GuardsLive } from "../layers/Guards.js"
import { HostLive } from "../layers/Host.js"
import { PipelineCatalogLive } from "../layers/PipelineCatalog.js"
import { processRunnerLive } from "../layers/ProcessRunner.js"

// The default grace for output held by background processes, not the setting (EXE-7): `doctor` reports a
// bad value of it as a finding, which it could not if building its layers stopped on it.
export const processLayer = processRunnerLive().pipe(Layer.provideMerge(HostLive))

/** Git, the ProcessRunner it runs on, the catalog and the guards (over the base settings every command has). */
export const gateLayer = GuardsLive.pipe(
  Layer.provideMerge(Layer.merge(GitLive, PipelineCatalogLive())),
  Layer.provideMerge(processLayer)
)
