/** What `mirror serve` says when it cannot listen: the fix names what is wrong, the port or the host. */
import { assert, describe, it } from "@effect/vitest"
import { MirrorServeFailed } from "../src/services/MirrorServer.js"

const failed = (address: string, reason: string) => new MirrorServeFailed({ address, cause: new Error(reason) }).message

describe("MirrorServeFailed", () => {
  it("a taken port asks for another port, a host that is not this machine's for another host, a privileged port for a higher one", () => {
    assert.strictEqual(
      failed("127.0.0.1:4180", "listen EADDRINUSE: address already in use 127.0.0.1:4180"),
      "could not listen on 127.0.0.1:4180: listen EADDRINUSE: address already in use 127.0.0.1:4180. Pick another --port (or --port 0 for a free one)."
    )
    assert.strictEqual(
      failed("8.8.8.8:4190", "listen EADDRNOTAVAIL: address not available 8.8.8.8:4190"),
      "could not listen on 8.8.8.8:4190: listen EADDRNOTAVAIL: address not available 8.8.8.8:4190. Pick another --host: an address of this machine (127.0.0.1, the default, or 0.0.0.0 for every one)."
    )
    assert.strictEqual(
      failed("no.such.host:4190", "getaddrinfo ENOTFOUND no.such.host"),
      "could not listen on no.such.host:4190: getaddrinfo ENOTFOUND no.such.host. Pick another --host: an address of this machine (127.0.0.1, the default, or 0.0.0.0 for every one)."
    )
    assert.strictEqual(
      failed("127.0.0.1:80", "listen EACCES: permission denied 127.0.0.1:80"),
      "could not listen on 127.0.0.1:80: listen EACCES: permission denied 127.0.0.1:80. Pick a --port above 1023 (or --port 0 for a free one)."
    )
  })
})
