/**
 * Reading back what an in-memory run wrote. JSON is decoded with the project's schemas, with excess
 * properties rejected, so an extra or missing key fails the test instead of being cast away.
 */
import { Effect, Schema } from "effect"
import { CliManifest } from "../../src/domain/Manifest.js"
import { RunLogEvent } from "../../src/domain/RunLog.js"
import { InMemoryFiles } from "../../src/layers/Files.js"

export const listFiles = Effect.flatMap(InMemoryFiles, (files) => files.list)

export const fileText = (path: string) =>
  Effect.flatMap(InMemoryFiles, (files) => files.read(path)).pipe(
    Effect.flatMap((text) => text === undefined ? Effect.dieMessage(`no file at ${path}`) : Effect.succeed(text))
  )

export const decodeJson = <A, I>(schema: Schema.Schema<A, I>) => (text: string) =>
  Schema.decodeUnknown(Schema.parseJson(schema), { errors: "all", onExcessProperty: "error" })(text).pipe(Effect.orDie)

export const jsonFile = <A, I>(schema: Schema.Schema<A, I>, path: string) =>
  Effect.flatMap(fileText(path), decodeJson(schema))

export const manifestFile = (path: string) => jsonFile(CliManifest, path)

/** The JSON lines of an ndjson log, each decoded as a run-log event. */
export const logFile = (path: string) =>
  fileText(path).pipe(
    Effect.flatMap((text) =>
      Effect.forEach(text.split("\n").filter((line) => line.length > 0), decodeJson(RunLogEvent))
    )
  )

/** The only CLI run manifest of `task` in the store (for runs whose outcome we never got back). */
export const onlyManifestPath = (task: string) =>
  listFiles.pipe(
    Effect.map((all) => all.filter((p) => p.startsWith(`/repo/.runs/${task}/cli/`) && p.endsWith("/manifest.json"))),
    Effect.flatMap((paths) =>
      paths.length === 1 && paths[0] !== undefined
        ? Effect.succeed(paths[0])
        : Effect.dieMessage(`expected one manifest, found ${paths.length}`)
    )
  )
