import { Path } from "@effect/platform"
import { Duration, Effect, Either, Layer, Option } from "effect"
import type { DoctorCheck } from "../domain/Doctor.js"
import { minimumNodeMajor, nodeVersionOk } from "../domain/Doctor.js"
import { oneLine } from "../domain/OneLine.js"
import { checkNestedPipelines, findPipeline, resolvePipeline } from "../domain/Pipeline.js"
import { codexHelpTimeout, listsReview } from "../domain/ReviewPrompt.js"
import {
  cacheSection,
  cloudSyncSection,
  clusterSection,
  controlPlaneSection,
  credentialsSection,
  decodeSettings,
  designSection,
  engineSection,
  type InvalidSetting,
  learningSection,
  notifySection,
  parseClusterDatabaseUrl,
  processSection,
  tfgrpoSection,
  tracingSection
} from "../domain/Settings.js"
import { shellCommand } from "../domain/Shell.js"
import { BaseConfig } from "../services/BaseConfig.js"
import { Doctor, type DoctorRequest } from "../services/Doctor.js"
import { Files } from "../services/Files.js"
import { Git } from "../services/Git.js"
import { PipelineCatalog } from "../services/PipelineCatalog.js"
import { ProcessRunner } from "../services/ProcessRunner.js"
import { probeDatabase } from "./internal/databaseProbe.js"
import { runForText } from "./internal/processText.js"

const check = (id: DoctorCheck["id"], required: boolean) => (status: DoctorCheck["status"], detail: string, fix?: string): DoctorCheck => ({
  id,
  status,
  required,
  detail,
  ...(fix === undefined ? {} : { fix })
})

/** codex runs and lists a review command (a warning otherwise: only review needs it). */
const codexCheck = (runner: typeof ProcessRunner.Service, root: string, codex: string) =>
  Effect.gen(function*() {
    const result = check("codex", false)
    const help = yield* Effect.either(runForText(runner, { command: shellCommand([codex, "--help"]), cwd: root, env: {} }).pipe(
      Effect.timeoutOption(codexHelpTimeout)
    ))
    if (Either.isRight(help) && Option.isNone(help.right)) {
      return result("warn", `"${codex} --help" did not answer within ${Duration.toSeconds(codexHelpTimeout)} s`, "check the Codex CLI (CODEX_BIN), or point CODEX_BIN at one that answers")
    }
    const answer = Either.isRight(help) ? Option.getOrUndefined(help.right) : undefined
    if (answer === undefined || answer.exit.exitCode === 127 || answer.exit.exitCode === 126) {
      return result("warn", `"${codex}" could not be run`, "install the Codex CLI or set CODEX_BIN; only `review` and the gate pipelines' review stage need it")
    }
    if (!listsReview(`${answer.stdout}\n${answer.stderr}`)) {
      return result("warn", `"${codex} --help" lists no review command`, "update the Codex CLI, or point CODEX_BIN at one with `codex review`")
    }
    return result("ok", `${codex} has a review command`)
  })

/** The cluster database answers; skipped when none is configured. */
const clusterCheck = (url: string | undefined) =>
  Effect.gen(function*() {
    if (url === undefined) return check("cluster", false)("skip", "CODEX_CLUSTER_DATABASE_URL is not set: cloud stages run locally")
    const result = check("cluster", true)
    const fix = "check CODEX_CLUSTER_DATABASE_URL and that PostgreSQL runs (`codex-orchestrator cluster db` starts one), or unset it"
    const parsed = parseClusterDatabaseUrl("CODEX_CLUSTER_DATABASE_URL", url)
    if (Either.isLeft(parsed)) return result("fail", parsed.left.message, fix)
    const reached = yield* Effect.either(probeDatabase(parsed.right))
    return Either.isLeft(reached) ? result("fail", `cannot reach the cluster database: ${reached.left}`, fix) : result("ok", "the cluster database answers")
  })

/**
 * Every section of the settings that a command decodes when it needs it (the paths and runs every
 * command reads were decoded before the doctor ran). A bad value stops only its commands, so the
 * doctor looks at all of them: one finding per bad variable.
 */
const settingsCheck = Effect.gen(function*() {
  const sections: ReadonlyArray<Effect.Effect<unknown, InvalidSetting>> = [
    decodeSettings(engineSection),
    decodeSettings(tfgrpoSection),
    decodeSettings(controlPlaneSection),
    decodeSettings(learningSection),
    decodeSettings(cloudSyncSection),
    decodeSettings(credentialsSection),
    decodeSettings(notifySection),
    decodeSettings(tracingSection),
    decodeSettings(designSection),
    decodeSettings(clusterSection),
    decodeSettings(cacheSection),
    decodeSettings(processSection)
  ]
  const bad = (yield* Effect.forEach(sections, (section) => Effect.flip(section).pipe(Effect.option))).flatMap((found) =>
    found._tag === "Some" ? [oneLine(found.value.message)] : []
  )
  return bad.length === 0
    ? check("settings", true)("ok", `every setting in the environment is valid (${sections.length} sections)`)
    : check("settings", true)("fail", bad.join(" "), "set each variable named as its message says, or unset it to use the default")
})

/** The doctor on the configured root, over git, processes, files and the pipeline catalog. */
export const DoctorLive = Layer.effect(
  Doctor,
  Effect.gen(function*() {
    const git = yield* Git
    const runner = yield* ProcessRunner
    const files = yield* Files
    const path = yield* Path.Path
    const catalog = yield* PipelineCatalog
    const { repoRoot: root, runsRoot } = (yield* BaseConfig).roots

    const gitCheck = Effect.gen(function*() {
      const result = check("git", true)
      const inside = yield* git.run(["rev-parse", "--is-inside-work-tree"], root)
      if (inside.exitCode !== 0 || inside.stdout.trim() !== "true") {
        return result("fail", `${root} is not a git repository`, "run `git init` there, or set CODEX_ORCHESTRATOR_ROOT to a repository")
      }
      const head = yield* git.run(["rev-parse", "--short", "HEAD"], root)
      if (head.exitCode !== 0) {
        return result("fail", `${root} has no commit yet`, "commit once (`git add -A && git commit`): the guards compare commits")
      }
      return result("ok", `${root} (HEAD ${head.stdout.trim()})`)
    }).pipe(Effect.catchTag("GitUnavailable", (error) => Effect.succeed(check("git", true)("fail", error.message, "install git"))))

    const nodeCheck = Effect.gen(function*() {
      const result = check("node", true)
      const fix = `install Node ${minimumNodeMajor} or newer: stages, npm scripts and this executable run on the node on PATH`
      const run = yield* Effect.either(runForText(runner, { command: "node --version", cwd: root, env: {} }))
      if (Either.isLeft(run) || run.right.exit.exitCode !== 0) return result("fail", "node could not be run", fix)
      const version = run.right.stdout.trim()
      return nodeVersionOk(version) === true ? result("ok", `${version} (${minimumNodeMajor} or newer)`) : result("fail", `node ${version} is too old`, fix)
    })

    const configCheck = Effect.gen(function*() {
      const result = check("config", true)
      const loaded = yield* Effect.either(catalog.load)
      if (Either.isLeft(loaded)) {
        return result("fail", oneLine(loaded.left.message), "fix the fields it names, or move the file aside to use the built-in pipelines")
      }
      const data = loaded.right
      const resolved = resolvePipeline(data, undefined)
      if ("_tag" in resolved) return result("fail", oneLine(resolved.message), `edit ${data.configPath}`)
      const problem = checkNestedPipelines(data, resolved.pipeline)
      if (problem !== undefined) return result("fail", oneLine(problem.message), `edit ${data.configPath}`)
      const where = data.configFound ? `${path.relative(root, data.configPath) || data.configPath}: ${data.user.length} pipeline(s)` : "no codex.orchestrator.json: built-in pipelines"
      const gate = findPipeline(data, "implementation-gate") === undefined ? "" : ", implementation-gate available"
      return result("ok", `${where}, default "${resolved.pipeline.id}"${gate}`)
    })

    /** The runs folder, or the folder that will hold it, takes a new file (created and removed). */
    const runsCheck = Effect.gen(function*() {
      const result = check("runs", true)
      const fix = `make ${runsRoot} writable, or set CODEX_ORCHESTRATOR_RUNS_DIR to a writable folder`
      // A file on the way (ENOTDIR) is found as the walk goes up, and named.
      const inspect = (dir: string) =>
        files.info(dir).pipe(Effect.catchIf((error) => String(error.cause).includes("ENOTDIR"), () => Effect.succeed(undefined)))
      const written = yield* Effect.either(Effect.gen(function*() {
        let dir = runsRoot
        let info = yield* inspect(dir)
        while (info === undefined && path.dirname(dir) !== dir) {
          dir = path.dirname(dir)
          info = yield* inspect(dir)
        }
        if (info?.type !== "directory") {
          const what = info?.type === "file" ? `${dir} is a file` : `${dir} is not a folder`
          return {
            dir,
            problem: dir !== runsRoot ? `${what}, so ${runsRoot} cannot be created in it` : info?.type === "file" ? `${what}, not a folder` : what,
            fix: `move ${dir} aside, or set CODEX_ORCHESTRATOR_RUNS_DIR to a writable folder`
          }
        }
        const probe = path.join(dir, ".codex-orchestrator-doctor")
        yield* files.remove(probe)
        yield* files.createExclusive(probe, "doctor\n")
        yield* files.remove(probe)
        return { dir, problem: undefined, fix }
      }))
      if (Either.isLeft(written)) return result("fail", oneLine(written.left.message), fix)
      const { dir, problem } = written.right
      if (problem !== undefined) return result("fail", oneLine(problem), written.right.fix)
      return result("ok", dir === runsRoot ? `${runsRoot} is writable` : `${runsRoot} will be created in ${dir}, which is writable`)
    })

    const run = Effect.fn("Doctor.check")(function*(request: DoctorRequest) {
      return [
        yield* gitCheck,
        yield* nodeCheck,
        yield* settingsCheck,
        yield* configCheck,
        yield* runsCheck,
        yield* codexCheck(runner, root, request.codex),
        yield* clusterCheck(request.clusterDatabaseUrl)
      ]
    })

    return Doctor.of({ check: run })
  })
)
