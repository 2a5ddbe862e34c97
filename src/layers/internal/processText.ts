/** Running a short command through the ProcessRunner and keeping what it printed, as text. */
import { Chunk, Effect, Ref } from "effect"
import type { ProcessRunner, ProcessSpec } from "../../services/ProcessRunner.js"

const decoder = new TextDecoder()

const textOf = (chunks: Chunk.Chunk<Uint8Array>): string => {
  const bytes = new Uint8Array(Chunk.reduce(chunks, 0, (n, c) => n + c.length))
  Chunk.reduce(chunks, 0, (offset, c) => {
    bytes.set(c, offset)
    return offset + c.length
  })
  return decoder.decode(bytes)
}

/** For commands that print little (git names and counts, `--help`): the whole output, decoded once. */
export const runForText = (runner: typeof ProcessRunner.Service, spec: ProcessSpec) =>
  Effect.gen(function*() {
    const output = yield* Ref.make({ stdout: Chunk.empty<Uint8Array>(), stderr: Chunk.empty<Uint8Array>() })
    const exit = yield* runner.run(spec, {
      onStart: () => Effect.void,
      onOutput: (stream, chunks) => Ref.update(output, (o) => ({ ...o, [stream]: Chunk.appendAll(o[stream], chunks) }))
    })
    const { stderr, stdout } = yield* Ref.get(output)
    return { exit, stdout: textOf(stdout), stderr: textOf(stderr) }
  })
