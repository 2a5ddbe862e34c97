/** The stage cache's pure rules (B-5) to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { formatIssues } from "../../src/domain/FileErrors.js"
import {
  type CacheKeyParts,
  CacheSpec,
  cacheFormat,
  canonicalJson,
  changedParts,
  defaultCacheMaxBytes,
  evictionOrder,
  formatBytes,
  parseByteSize
} from "../../src/domain/StageCache.js"

const messagesOf = (input: unknown) =>
  Either.match(Schema.decodeUnknownEither(CacheSpec, { errors: "all" })(input), {
    onLeft: (error) => formatIssues(error),
    onRight: () => []
  })

describe("CacheSpec, exactly", () => {
  it("names the bad glob and the bad variable name with what it got", () => {
    assert.deepStrictEqual(messagesOf({ inputs: ["ok/**", "../x"], env: ["A_1", "_b", "9A", "A-B"] }), [
      "inputs.1: must stay inside the stage's folder (no .. segments) (got \"../x\")",
      "env.2: must be an environment variable name (letters, digits and _, not starting with a digit)",
      "env.3: must be an environment variable name (letters, digits and _, not starting with a digit)"
    ])
    assert.deepStrictEqual(messagesOf({ env: ["A B", " A"] }).length, 2)
    assert.deepStrictEqual(messagesOf({}), [])
  })
})

describe("canonicalJson, exactly", () => {
  it("sorts object keys at every depth and keeps array order", () => {
    assert.strictEqual(canonicalJson({ b: 1, a: [{ d: null, c: "x" }, 2], c: { z: true, y: false } }), "{\"a\":[{\"c\":\"x\",\"d\":null},2],\"b\":1,\"c\":{\"y\":false,\"z\":true}}")
    assert.strictEqual(canonicalJson({ b: 1, a: 2, c: 3 }), "{\"a\":2,\"b\":1,\"c\":3}")
    assert.strictEqual(canonicalJson({ a: 1, a2: 2, B: 3 }), "{\"B\":3,\"a\":1,\"a2\":2}")
    assert.strictEqual(canonicalJson([]), "[]")
    assert.strictEqual(canonicalJson({}), "{}")
    assert.strictEqual(canonicalJson(null), "null")
    assert.strictEqual(canonicalJson("s"), "\"s\"")
  })
})

describe("changedParts, exactly", () => {
  it("every part in order: format, version, command, cwd, env, inputs", () => {
    const before: CacheKeyParts = { format: cacheFormat, version: "1", command: "a", cwd: ".", env: { B: "1", A: "1" }, inputs: { "x.ts": "1" } }
    assert.deepStrictEqual(changedParts(before, before), [])
    const after: CacheKeyParts = { ...before, command: "b", cwd: "pkg", env: { A: "2", C: "1" }, inputs: {} }
    assert.deepStrictEqual(changedParts(before, after), [
      "command",
      "cwd . -> pkg",
      "env A changed",
      "env B removed",
      "env C added",
      "input x.ts removed"
    ])
  })
})

describe("evictionOrder, exactly", () => {
  it("nothing goes when everything fits, exactly at the bound included", () => {
    const entries = [{ key: "a", size: 60, lastUsedMs: 1 }, { key: "b", size: 40, lastUsedMs: 2 }]
    assert.deepStrictEqual(evictionOrder(entries, 100), [])
    assert.deepStrictEqual(evictionOrder(entries, 99), ["a"])
    assert.deepStrictEqual(evictionOrder(entries, 40), ["a"])
    assert.deepStrictEqual(evictionOrder(entries, 39), ["a", "b"])
    assert.deepStrictEqual(evictionOrder([], 0), [])
  })

  it("entries last used at the same time go in key order, whatever order they come in", () => {
    const entries = [{ key: "c", size: 10, lastUsedMs: 5 }, { key: "a", size: 10, lastUsedMs: 5 }, { key: "b", size: 10, lastUsedMs: 5 }]
    assert.deepStrictEqual(evictionOrder(entries, 0), ["a", "b", "c"])
    assert.deepStrictEqual(evictionOrder([...entries].reverse(), 0), ["a", "b", "c"])
    assert.deepStrictEqual(evictionOrder([{ key: "z", size: 10, lastUsedMs: 1 }, ...entries], 15), ["z", "a", "b"])
  })
})

describe("parseByteSize and formatBytes, exactly", () => {
  it("every unit, upper or lower case, with B or iB, spaces allowed; zero, fractions of a byte and words are not sizes", () => {
    assert.deepStrictEqual(
      ["1", "1.25k", " 2 k ", "3kb", "4KiB", "1t", "1T", "1 tib", "0.5", "1.5k", "0.0001k", "k", "1x", "x1", "1.k", "-1", "99999999999999999999"].map(parseByteSize),
      [1, 1280, 2048, 3072, 4096, 1024 ** 4, 1024 ** 4, 1024 ** 4, undefined, 1536, undefined, undefined, undefined, undefined, undefined, undefined, undefined]
    )
  })

  it("bytes below 1 KiB, then KiB, MiB and GiB with one decimal", () => {
    assert.deepStrictEqual(
      [0, 1023, 1024, 1536, 1024 ** 2 - 1, 1024 ** 2, 1024 ** 3 - 1, 1024 ** 3, 5 * 1024 ** 4].map(formatBytes),
      ["0 B", "1023 B", "1.0 KiB", "1.5 KiB", "1024.0 KiB", "1.0 MiB", "1024.0 MiB", "1.0 GiB", "5120.0 GiB"]
    )
    assert.strictEqual(defaultCacheMaxBytes, 1024 ** 3)
  })
})
