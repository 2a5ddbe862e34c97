/**
 * Builds the Effect floor of `status` (effectFloorMain.ts) into a folder laid out as dist/bin: the
 * executable's loader and quick parser, with the floor bundled as status.cjs, so that
 * `node <folder>/codex-orchestrator.cjs status --run <id> --task <task>` starts exactly as `status`
 * does (same loader, same esbuild settings, a code cache warmed the same way) and then runs the floor.
 */
import { Command, FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import { build } from "esbuild"
import { asBenchFailed, BenchFailed } from "./Measure.js"

export const buildEffectFloor = (projectRoot: string, into: string, warmRun: Command.Command) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const bin = path.join(projectRoot, "dist", "bin")
    yield* fs.makeDirectory(into, { recursive: true })
    yield* fs.copyFile(path.join(bin, "codex-orchestrator.cjs"), path.join(into, "codex-orchestrator.cjs"))
    yield* fs.copyFile(path.join(bin, "status-args.cjs"), path.join(into, "status-args.cjs"))
    yield* Effect.tryPromise(() =>
      build({
        entryPoints: [path.join(projectRoot, "scripts", "bench", "effectFloorMain.ts")],
        outfile: path.join(into, "status.cjs"),
        bundle: true,
        platform: "node",
        format: "cjs",
        target: "node20",
        minify: true,
        legalComments: "none",
        logLevel: "silent"
      })
    )
    // Fills status.cjs.cache as `npm run build` fills the real one.
    const code = yield* Command.exitCode(warmRun.pipe(Command.env({ CODEX_ORCHESTRATOR_WRITE_CODE_CACHE: "1" })))
    if (code !== 0) return yield* new BenchFailed({ message: `the Effect floor's warm-up run exited with code ${code}` })
  }).pipe(Effect.mapError(asBenchFailed("building the Effect floor")))
