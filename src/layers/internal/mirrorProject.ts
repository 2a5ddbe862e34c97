/**
 * Where a mirror project's files live (SPEC MIR-1..MIR-5) and its configuration, read once for
 * fetch, serve and check: `packages/<project>/mirror.config.json` (or `--config`) and
 * `packages/<project>/public`.
 */
import type { Path } from "@effect/platform"
import { Effect } from "effect"
import { decodeJsonFile, InvalidFile } from "../../domain/FileErrors.js"
import { idProblem } from "../../domain/Ids.js"
import { MirrorConfigFile, type MirrorSettings, resolveMirrorConfig } from "../../domain/MirrorConfig.js"
import type { Files } from "../../services/Files.js"

export interface MirrorProject {
  readonly name: string
  readonly dir: string
  readonly configPath: string
  /** Whether `configPath` came from `--config` (the fix for a missing file differs). */
  readonly configGiven: boolean
  readonly publicDir: string
}

/** The project's folders; a name that could leave `packages/` is bad input (exit 2). */
export const mirrorProject = (path: Path.Path, repoRoot: string, name: string, configPath?: string) => {
  const problem = idProblem(name)
  if (problem !== undefined) {
    return Effect.fail(new InvalidFile({
      path: `--project ${JSON.stringify(name)}`,
      issues: [problem.replace(/\.$/, "")],
      hint: "Name a folder under packages/ (letters, digits, '-', '_' or '.')."
    }))
  }
  const dir = path.join(repoRoot, "packages", name)
  return Effect.succeed<MirrorProject>({
    name,
    dir,
    configPath: configPath === undefined ? path.join(dir, "mirror.config.json") : path.resolve(configPath),
    configGiven: configPath !== undefined,
    publicDir: path.join(dir, "public")
  })
}

/** The smallest configuration that works, as the fixes show it. */
const leastConfig = `{"origin": "https://example.com", "routes": ["/"]}`

/** The project's configuration with its defaults; a missing or invalid file names what to fix (exit 2). */
export const loadMirrorSettings = (files: Files["Type"], path: Path.Path, repoRoot: string, project: MirrorProject) =>
  Effect.gen(function*() {
    // Inside the repository relative to its root; outside it as the absolute path, not a climb of `../`.
    const relative = path.relative(repoRoot, project.configPath)
    const shown = relative === "" || relative.startsWith("..") ? project.configPath : relative
    const text = yield* files.readText(project.configPath)
    if (text === undefined) {
      return yield* new InvalidFile({
        path: shown,
        issues: ["the file does not exist"],
        hint: `Create it with at least ${leastConfig}, or ${project.configGiven ? "give --config a file that exists" : "pass --config <file>"}.`
      })
    }
    const file = yield* decodeJsonFile(MirrorConfigFile, shown, `Fix the fields listed; the least a mirror needs is ${leastConfig}.`)(text)
    return resolveMirrorConfig(file) satisfies MirrorSettings
  })
