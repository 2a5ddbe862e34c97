/**
 * The floor of `status` under our fixed choices, for `npm run bench`: the smallest Effect program
 * that does what `status` must do, and nothing else. It reads one run's manifest through
 * @effect/platform's FileSystem, decodes two fields with Schema, prints one line and exits through
 * NodeRuntime.runMain. The bench runs it on the executable's own loader and code cache, in place
 * of status.cjs (see EffectFloor.ts), so the difference to `status` is what our code adds.
 */
import { FileSystem } from "@effect/platform"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Schema } from "effect"

const Status = Schema.Struct({ run_id: Schema.String, status: Schema.String })

// argv: node <loader> status --run <id> --task <task>
const [runId, taskId] = [process.argv[4] ?? "", process.argv[6] ?? ""]

Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(`.runs/${taskId}/cli/${runId}/manifest.json`)
  const manifest = yield* Schema.decodeUnknown(Schema.parseJson(Status))(text)
  yield* Console.log(`Run: ${manifest.run_id}\nStatus: ${manifest.status}`)
}).pipe(Effect.provide(NodeFileSystem.layer), NodeRuntime.runMain)
