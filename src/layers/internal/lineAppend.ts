/**
 * Appending whole lines to a JSON-lines file (metrics.json, experiences.jsonl), under the caller's lock.
 */
import { Chunk, Effect, Stream } from "effect"
import type { Files } from "../../services/Files.js"

/**
 * Appends `lines`, ending them with a newline. A file whose last line was cut short before its
 * newline (an append interrupted) gets one first, so the new line is not glued to it and lost with it.
 */
export const appendLines = (files: Files["Type"], file: string, lines: string) =>
  Effect.gen(function*() {
    const size = (yield* files.info(file))?.size ?? 0
    const last = size === 0 ? [] : Chunk.toReadonlyArray(yield* Stream.runCollect(files.readBytes(file, size - 1)))
    const endsLine = size === 0 || last.at(-1)?.at(-1) === 0x0a
    yield* files.append(file, `${endsLine ? "" : "\n"}${lines.endsWith("\n") ? lines : `${lines}\n`}`)
  })
