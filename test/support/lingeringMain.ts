/**
 * A command line through the CLI's edge (`runCli`) whose program succeeds but leaves a handle open
 * (a listening socket), as a library's leaked connection would. Prints `done` on stdout first.
 * Usage: node --import tsx <this file>
 */
import { createServer } from "node:net"
import { Console, Effect } from "effect"
import { noParserErrors, runCli } from "../../src/cli/edge.js"

runCli(
  Effect.zipRight(
    Effect.sync(() => createServer().listen(0, "127.0.0.1")),
    Console.log("done")
  ),
  noParserErrors
)
