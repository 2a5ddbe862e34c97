/**
 * `design motion`'s encoding and `design setup`'s tool checks: FFmpeg (Debian's `ffmpeg`) run through
 * the ProcessRunner. A scroll's frames become `motion.mp4` (H.264, even dimensions, 10 fps by
 * default); the first, middle and last frames are kept as key frames.
 */
import type { Path } from "@effect/platform"
import { Chunk, Effect, Ref } from "effect"
import { shellCommand } from "../../domain/Shell.js"
import { DesignToolFailed } from "../../services/DesignToolkit.js"
import type { Files } from "../../services/Files.js"
import type { ProcessRunner } from "../../services/ProcessRunner.js"

const decoder = new TextDecoder()

/** The indexes of the key frames among `count` frames: first, middle, last (without repeats). */
export const keyFrameIndexes = (count: number): ReadonlyArray<number> =>
  count <= 0 ? [] : [...new Set([0, Math.floor((count - 1) / 2), count - 1])]

export const makeTools = (runner: ProcessRunner["Type"], files: Files["Type"], path: Path.Path, cwd: string) => {
  /** Runs a command line; its exit code and the last 4 KB of its output. */
  const run = (command: string) =>
    Effect.gen(function*() {
      const output = yield* Ref.make("")
      const exit = yield* runner.run({ command, cwd, env: {} }, {
        onStart: () => Effect.void,
        onOutput: (_stream, chunks) =>
          Ref.update(output, (text) => `${text}${Chunk.toReadonlyArray(chunks).map((chunk) => decoder.decode(chunk)).join("")}`.slice(-4096))
      })
      return { exitCode: exit.exitCode, output: (yield* Ref.get(output)).trim() }
    })

  /** FFmpeg's version line, or undefined when there is no working `ffmpeg` on the PATH. */
  const ffmpegVersion = run("command -v ffmpeg >/dev/null && ffmpeg -hide_banner -version").pipe(
    Effect.map((result) => (result.exitCode === 0 ? result.output.split("\n")[0] : undefined)),
    Effect.orElseSucceed(() => undefined)
  )

  /**
   * Whether the browser at `executable` runs: its `--version` line, or why not. Found is not enough:
   * a CHROMIUM_PATH naming something else would pass the setup and fail every capture.
   */
  const browserVersion = (executable: string) =>
    run(shellCommand([executable, "--version"])).pipe(
      Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error("--version did not answer in 30 s") }),
      Effect.map((result) => {
        const lines = result.output.split("\n")
        const version = lines.find((line) => /^(chromium|google chrome|chrome)\b/i.test(line.trim()))
        return result.exitCode === 0
          ? { ok: true, detail: `${executable} (${(version ?? lines[0] ?? "").trim()})` }
          : { ok: false, detail: `${executable} does not run (--version exited ${result.exitCode ?? "on a signal"})` }
      }),
      Effect.catchAll((error) => Effect.succeed({ ok: false, detail: `${executable} does not run (${error.message})` }))
    )

  /** frames/frame-NNN.png -> `video`; the key frames copied to `keyframeDir/keyframe-N.png`; the frames removed. */
  const encode = (frames: ReadonlyArray<string>, framesDir: string, video: string, keyframeDir: string, frameIntervalMs: number) =>
    Effect.gen(function*() {
      const fps = String(Math.max(1, Math.round(1000 / Math.max(1, frameIntervalMs))))
      const result = yield* run(shellCommand([
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
        "-framerate", fps, "-i", path.join(framesDir, "frame-%03d.png"),
        "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
        video
      ])).pipe(Effect.mapError((error) => new DesignToolFailed({ tool: "ffmpeg", detail: error.message })))
      if (result.exitCode !== 0) {
        return yield* new DesignToolFailed({ tool: "ffmpeg", detail: `exited with ${result.exitCode ?? "a signal"}: ${result.output.split("\n").slice(-3).join(" ")}` })
      }
      const keyframes = yield* Effect.forEach(keyFrameIndexes(frames.length), (index, n) =>
        Effect.gen(function*() {
          const bytes = yield* files.readAllBytes(frames[index] ?? "")
          const target = path.join(keyframeDir, `keyframe-${n + 1}.png`)
          if (bytes !== undefined) yield* files.writeBytes(target, bytes)
          return target
        }))
      yield* files.removeTree(framesDir)
      return keyframes
    })

  return { run, ffmpegVersion, browserVersion, encode }
}
