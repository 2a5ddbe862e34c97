/**
 * The entry point of `status`'s quick path, a bundle of its own (dist/bin/status.cjs) so that the most
 * frequent read starts quickly (issue 3's speed target): no @effect/cli, nothing of the engine. The
 * executable runs it only for a plain command line, as statusArgs.ts reads it (bundled on its own as
 * dist/bin/status-args.cjs, so the executable can ask without loading Effect); any other (`--help`, a
 * usage error, an unusual form) goes to the full CLI, whose `status` parses it with @effect/cli, so
 * errors and help are exactly the full CLI's.
 */
import { Effect } from "effect"
import { RunReadingNode } from "../layers/AppBase.js"
import { noParserErrors, runCli } from "./edge.js"
import { parseStatusArgs } from "./statusArgs.js"
import { showStatus } from "./statusReport.js"
import { UsageError } from "./usage.js"

const flags = process.argv[2] === "status" ? parseStatusArgs(process.argv.slice(3)) : undefined

runCli(
  flags === undefined
    ? new UsageError({
      reason: "This bundle runs plain `status --run <id>` command lines only; run the codex-orchestrator executable."
    })
    : showStatus(flags).pipe(Effect.provide(RunReadingNode)),
  noParserErrors
)
