/**
 * `design publish` (SPEC CFG-6's design-toolkit-publish, DES-3's `publish/logs/<slug>/`): with
 * `publish.enabled`, each source's tokens (tokens.json and tokens.css) are copied into the
 * repository as `<publish.tokensDir>/<slug>.json|.css`, then each `publish.commands` line runs
 * (`sh -c` in the repository root, told the slug, the file and the run through DESIGN_TOOLKIT_*
 * variables) with its output in `publish/logs/<slug>/NN-command.log` and a `publish.json` record
 * beside it. A command that fails fails the step. The target must resolve inside the repository.
 */
import type { Path } from "@effect/platform"
import { Console, Effect } from "effect"
import type { DesignSettings, DesignSource } from "../../domain/DesignConfig.js"
import { type DesignLayout, UnsafeArtifactPath } from "../../domain/DesignPaths.js"
import { isWithin } from "../../domain/PathContainment.js"
import { DesignToolFailed } from "../../services/DesignToolkit.js"
import type { Files } from "../../services/Files.js"
import type { ProcessRunner } from "../../services/ProcessRunner.js"
import type { makeFileSteps } from "./designFileSteps.js"

export interface PublishDeps {
  readonly files: Files["Type"]
  readonly path: Path.Path
  readonly runner: ProcessRunner["Type"]
  readonly steps: ReturnType<typeof makeFileSteps>
  readonly repoRoot: string
}

interface CommandOutcome {
  readonly command: string
  readonly exit_code: number | null
  readonly log: string
}

export const makePublishStep = ({ files, path, repoRoot, runner, steps }: PublishDeps) => {
  /**
   * The tokens folder, created only once the part of it that exists resolves inside the repository
   * (symlinks followed), so not even an empty folder is made elsewhere.
   */
  const targetOf = (settings: DesignSettings) =>
    Effect.gen(function*() {
      const target = path.join(repoRoot, settings.publishTokensDir)
      const realRepo = (yield* files.realPath(repoRoot)) ?? repoRoot
      let existing = target
      let real = yield* files.realPath(existing)
      while (real === undefined && path.dirname(existing) !== existing) {
        existing = path.dirname(existing)
        real = yield* files.realPath(existing)
      }
      if (real === undefined || !isWithin(realRepo, real, path.sep)) {
        return yield* new UnsafeArtifactPath({ segment: settings.publishTokensDir, reason: `publish.tokensDir resolves to ${real ?? "nothing"}, outside the repository` })
      }
      yield* files.makeDirectory(target)
      return target
    })

  /** One command with its output streamed into `log`; its exit code. */
  const runLogged = (command: string, env: Readonly<Record<string, string>>, log: string) =>
    Effect.gen(function*() {
      yield* files.writeAtomic(log, `$ ${command}\n`, { durable: false })
      const decoder = new TextDecoder()
      const exit = yield* runner.run({ command, cwd: repoRoot, env }, {
        onStart: () => Effect.void,
        onOutput: (_stream, chunks) => Effect.forEach(chunks, (chunk) => files.append(log, decoder.decode(chunk, { stream: true })), { discard: true })
      }).pipe(Effect.mapError((error) => new DesignToolFailed({ tool: "design publish", detail: error.message })))
      return exit.exitCode
    })

  const publishSource = (layout: DesignLayout, settings: DesignSettings, target: string, source: DesignSource) =>
    Effect.gen(function*() {
      const tokensDir = yield* steps.dirOf(layout, "tokens", source)
      const json = yield* steps.readInput(layout, path.join(tokensDir, "tokens.json"), "publish", "tokens")
      const css = yield* steps.readInput(layout, path.join(tokensDir, "tokens.css"), "publish", "tokens")
      const published = [path.join(target, `${source.dir}.json`), path.join(target, `${source.dir}.css`)]
      yield* files.writeAtomic(published[0] ?? "", json, { durable: false })
      yield* files.writeAtomic(published[1] ?? "", css, { durable: false })
      const logs = layout.publishLogs(source.dir)
      if (typeof logs !== "string") return yield* logs
      yield* files.makeDirectory(logs)
      const env = {
        DESIGN_TOOLKIT_SLUG: source.dir,
        DESIGN_TOOLKIT_TOKENS: published[0] ?? "",
        DESIGN_TOOLKIT_TASK_ID: layout.taskId,
        DESIGN_TOOLKIT_RUN_ID: layout.runId
      }
      const outcomes: Array<CommandOutcome> = []
      for (const [i, command] of settings.publishCommands.entries()) {
        const log = path.join(logs, `${String(i + 1).padStart(2, "0")}-command.log`)
        const exitCode = yield* runLogged(command, env, log)
        outcomes.push({ command, exit_code: exitCode, log: layout.relative(log) })
        yield* Console.error(`[design:publish] ${source.dir}: \`${command}\` exited with ${exitCode ?? "a signal"}`)
        if (exitCode !== 0) break
      }
      const record = path.join(logs, "publish.json")
      const relativePublished = published.map((file) => path.relative(repoRoot, file))
      yield* files.writeAtomic(record, `${JSON.stringify({ slug: source.dir, published: relativePublished, commands: outcomes }, null, 2)}\n`, { durable: false })
      const failed = outcomes.find((outcome) => outcome.exit_code !== 0)
      if (failed !== undefined) {
        return yield* new DesignToolFailed({ tool: "design publish", detail: `${source.dir}: \`${failed.command}\` exited with ${failed.exit_code ?? "a signal"}; see ${failed.log}` })
      }
      return {
        line: `${source.dir}: ${relativePublished.join(", ")}${outcomes.length === 0 ? "" : `; ${outcomes.length} command${outcomes.length === 1 ? "" : "s"} ok`}`,
        artifacts: [...relativePublished, layout.relative(record), ...outcomes.map((o) => o.log)]
      }
    })

  return (layout: DesignLayout, settings: DesignSettings) =>
    Effect.gen(function*() {
      if (!settings.publishEnabled) {
        return [{ line: "publish is off (pipelines.hi_fi_design_toolkit.publish.enabled); nothing published", artifacts: [] }]
      }
      const target = yield* targetOf(settings)
      return yield* Effect.forEach(settings.sources, (source) => publishSource(layout, settings, target, source))
    })
}
