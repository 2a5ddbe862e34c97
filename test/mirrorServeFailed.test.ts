/** What `mirror serve` says when it cannot listen: the fix names what is wrong, the port or the host. */
import { assert, describe, it } from "@effect/vitest"
import { MirrorServeFailed } from "../src/services/MirrorServer.js"

const failed = (address: string, reason: string) => new MirrorServeFailed({ address, cause: new Error(reason) }).message

const otherHost = "Pick another --host: an address of this machine (127.0.0.1, the default, or 0.0.0.0 for every one)."

/** [address, the system's reason, the fix the message must end with] */
const cases: ReadonlyArray<readonly [string, string, string]> = [
  ["127.0.0.1:4180", "listen EADDRINUSE: address already in use 127.0.0.1:4180", "Pick another --port (or --port 0 for a free one)."],
  ["8.8.8.8:4190", "listen EADDRNOTAVAIL: address not available 8.8.8.8:4190", otherHost],
  ["no.such.host:4190", "getaddrinfo ENOTFOUND no.such.host", otherHost],
  ["127.0.0.1:80", "listen EACCES: permission denied 127.0.0.1:80", "Pick a --port above 1023 (or --port 0 for a free one)."]
]

describe("MirrorServeFailed", () => {
  it("a taken port asks for another port, a host that is not this machine's for another host, a privileged port for a higher one", () => {
    for (const [address, reason, fix] of cases) {
      assert.strictEqual(failed(address, reason), `could not listen on ${address}: ${reason}. ${fix}`)
    }
  })
})
