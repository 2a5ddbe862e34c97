/**
 * The privacy guard's scanner and line holder (PRIV-2, D-13, issue 16 item 15) at their boundaries:
 * which findings `findSecrets` counts around a seam, where `cutOutside`/`startOutside` move a cut that
 * touches a secret's first or last character, and how the line holder treats a private key block and a
 * value too long to hold, to the character. Privacy.test.ts checks the same rules by their outcome.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  cutOutside,
  findSecrets,
  makeLineHolder,
  type PrivacyFinding,
  privacyModeOf,
  redact,
  redactedMarker,
  startOutside
} from "../../src/domain/Privacy.js"

const token: PrivacyFinding = { rule: "sensitive-token", action: "redact", reason: "detected high-risk token" }
const privateKey: PrivacyFinding = { rule: "private-key", action: "block", reason: "detected private key material" }
const header = "-----BEGIN RSA PRIVATE KEY-----"
const footer = "-----END RSA PRIVATE KEY-----"

describe("privacyModeOf (PRIV-1)", () => {
  it("`enforce` is read trimmed, as the truthy values are", () => {
    assert.strictEqual(privacyModeOf(" enforce\n", undefined), "enforce")
    assert.strictEqual(privacyModeOf(undefined, "\tENFORCE "), "enforce")
  })
})

describe("findSecrets: what a read adds, and what straddles a seam", () => {
  // "password=hunter2hunter2" spans [4, 27); "AKIAIOSFODNN7EXAMPLE" spans [32, 52).
  const text = "see password=hunter2hunter2 and AKIAIOSFODNN7EXAMPLE."

  it("counts every secret from position 0 by default, each rule's in rule order", () => {
    assert.deepStrictEqual(findSecrets(text), [token, token])
    assert.deepStrictEqual(findSecrets(`${header}\nabc\n${footer} token=abcdef`), [privateKey, token])
    assert.deepStrictEqual(findSecrets("nothing here"), [])
  })

  it("a secret counts once it ends after `from`: ending exactly at `from` is already checked", () => {
    assert.deepStrictEqual(findSecrets(text, 27), [token])
    assert.deepStrictEqual(findSecrets(text, 26), [token, token])
    assert.deepStrictEqual(findSecrets(text, 52), [])
    assert.deepStrictEqual(findSecrets(text, 51), [token])
  })

  it("with `startsBefore`, only a secret that starts before it counts", () => {
    assert.deepStrictEqual(findSecrets(text, 20, 32), [token])
    assert.deepStrictEqual(findSecrets(text, 20, 33), [token, token])
    assert.deepStrictEqual(findSecrets(text, 20, 4), [])
    assert.deepStrictEqual(findSecrets(text, 20, 5), [token])
  })
})

describe("cutOutside and startOutside at a secret's edges", () => {
  const text = "see password=hunter2hunter2 and AKIAIOSFODNN7EXAMPLE."

  it("a cut at a secret's end or start stays; one character inside moves", () => {
    assert.strictEqual(cutOutside(text, 27), 27)
    assert.strictEqual(cutOutside(text, 26), 4)
    assert.strictEqual(cutOutside(text, 5), 4)
    assert.strictEqual(cutOutside(text, 52), 52)
    assert.strictEqual(cutOutside(text, 33), 32)
  })

  it("a tail starting at a secret's start or end stays; one character inside moves to its end", () => {
    assert.strictEqual(startOutside(text, 4), 4)
    assert.strictEqual(startOutside(text, 5), 27)
    assert.strictEqual(startOutside(text, 26), 27)
    assert.strictEqual(startOutside(text, 32), 32)
    assert.strictEqual(startOutside(text, 51), 52)
  })

  it("never splits a character written as two UTF-16 units (an emoji): the cut moves before it, the tail after it", () => {
    const emoji = "ok \u{1F600} done" // the emoji is units 3 and 4
    assert.strictEqual(cutOutside(emoji, 4), 3)
    assert.strictEqual(cutOutside(emoji, 3), 3)
    assert.strictEqual(cutOutside(emoji, 5), 5)
    assert.strictEqual(startOutside(emoji, 4), 5)
    assert.strictEqual(startOutside(emoji, 3), 3)
  })

  it("a private key block is not a line secret: cuts inside it stay where they are", () => {
    const block = `${header}\nMIIBOgIBAAJBAKj34GkxFhD90vcN\n${footer}`
    assert.strictEqual(cutOutside(block, 40), 40)
    assert.strictEqual(startOutside(block, 40), 40)
  })
})

describe("makeLineHolder: private key blocks (D-13)", () => {
  it("holds a block from its header until its footer arrives, across lines and reads", () => {
    const holder = makeLineHolder()
    assert.strictEqual(holder.push(`${header}\nMIIB\n`), "")
    assert.strictEqual(holder.push("more\n"), "")
    assert.strictEqual(holder.push(`${footer}\nafter\n`), `${header}\nMIIB\nmore\n${footer}\nafter\n`)
    assert.strictEqual(holder.flush(), "")
  })

  it("releases the lines before the header and holds from the header on, even mid-line", () => {
    const holder = makeLineHolder()
    assert.strictEqual(holder.push(`one\ntwo ${header}\nMIIB\n`), "one\ntwo ")
    assert.strictEqual(holder.flush(), `${header}\nMIIB\n`)
  })

  it("holds from the last of several headers when an earlier block has ended", () => {
    const holder = makeLineHolder()
    const first = `${header}\nA\n${footer}\n`
    assert.strictEqual(holder.push(`${first}${header}\nB\n`), first)
    assert.strictEqual(holder.flush(), `${header}\nB\n`)
  })

  it("holds an open block of exactly 64 KiB from its header, and releases one a character longer", () => {
    const filler = (total: number) => "k".repeat(total - header.length - 2)
    const held = makeLineHolder()
    assert.strictEqual(held.push(`before\n${header}\n${filler(64 * 1024)}\n`), "before\n")
    assert.strictEqual(held.flush().length, 64 * 1024)
    const released = makeLineHolder()
    const long = `before\n${header}\n${filler(64 * 1024 + 1)}\n`
    assert.strictEqual(released.push(long), long)
  })

  it("a header in the unfinished last line is held with that line, not released up to it", () => {
    const holder = makeLineHolder()
    assert.strictEqual(holder.push(`x\nfoo ${header}`), "x\n")
    assert.strictEqual(holder.flush(), `foo ${header}`)
  })
})

describe("makeLineHolder: a value too long to hold (issue 16, item 15a)", () => {
  const valueOf = (length: number) => "v".repeat(length)

  it("a value that ends exactly where a read ends is still dropped as it continues in the next read", () => {
    const holder = makeLineHolder()
    const first = holder.push(`x token=${valueOf(70_000)}`)
    assert.strictEqual(redact(first).text, `x token=${redactedMarker}`)
    assert.strictEqual(holder.push("vvv end\n"), " end\n")
  })

  it("a value that ends inside the read is released whole, and what follows it is held as usual", () => {
    const holder = makeLineHolder()
    const first = holder.push(`x token=${valueOf(70_000)} tail`)
    assert.strictEqual(first, `x token=${valueOf(70_000)}`)
    assert.strictEqual(holder.push(" more\n"), " tail more\n")
  })

  it("the forced cut goes back to the value's start only while what is held fits in 64 KiB", () => {
    // The holder's limit is 8192: a line of `key=` + 64 KiB - 6 value characters is held from its key.
    const key = "token="
    const fits = makeLineHolder()
    const line = `${"a".repeat(9000)} ${key}${valueOf(64 * 1024 - key.length)}`
    assert.strictEqual(fits.push(line), `${"a".repeat(9000)} `)
    assert.strictEqual(fits.flush(), `${key}${valueOf(64 * 1024 - key.length)}`)
    const over = makeLineHolder()
    const longer = `${line}v`
    const released = over.push(longer)
    assert.strictEqual(released, longer.slice(0, longer.length - 8192))
    assert.strictEqual(over.push("vv done\n"), " done\n")
  })

  it("a holder whose limit is above 64 KiB loses nothing of a long line, with or without a secret after the cut", () => {
    for (const tail of ["", " token=abcdefgh"]) {
      const holder = makeLineHolder(100_000)
      const line = `${"x".repeat(150_000)}${tail}`
      assert.strictEqual(holder.push(line), line.slice(0, line.length - 100_000), JSON.stringify(tail))
      assert.strictEqual(holder.flush(), line.slice(line.length - 100_000), JSON.stringify(tail))
    }
  })

  it("flush ends a dropped value: the next stream starts clean", () => {
    const holder = makeLineHolder()
    holder.push(`token=${valueOf(70_000)}`)
    assert.strictEqual(holder.flush(), "")
    assert.strictEqual(holder.push("vvvv\n"), "vvvv\n")
  })

  it("a dropped value ends at the first character a value cannot hold, in the same read", () => {
    const holder = makeLineHolder()
    holder.push(`token=${valueOf(70_000)}`)
    assert.strictEqual(holder.push("vv;next\n"), ";next\n")
    assert.strictEqual(holder.push("vvvv\n"), "vvvv\n")
  })
})
