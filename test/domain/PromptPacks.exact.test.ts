/** Prompt packs' paths, stamp text, order and messages (INS-4, INS-5) to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { formatIssues } from "../../src/domain/FileErrors.js"
import {
  ExperienceWordLimitInvalid,
  normalizeSourcePath,
  promptPackManifestPath,
  PromptPackManifestFile,
  type PromptPackEntry,
  promptPackStampText,
  PromptPackStampMismatch,
  sortPromptPacks,
  sourceRefsOf
} from "../../src/domain/PromptPacks.js"

const issuesOf = (input: unknown) =>
  Either.match(Schema.decodeUnknownEither(PromptPackManifestFile, { errors: "all" })(input), {
    onLeft: formatIssues,
    onRight: () => []
  })

describe("normalizeSourcePath, exactly", () => {
  it("drops empty and . segments, resolves .. inside the root, refuses absolute paths and climbing out", () => {
    assert.strictEqual(normalizeSourcePath("a//./b/../c.md"), "a/c.md")
    assert.strictEqual(normalizeSourcePath("./a.md"), "a.md")
    assert.strictEqual(normalizeSourcePath("a/../../b.md"), undefined)
    assert.strictEqual(normalizeSourcePath("../b.md"), undefined)
    assert.strictEqual(normalizeSourcePath("/etc/passwd"), undefined)
    assert.strictEqual(normalizeSourcePath("C:\\x.md"), undefined)
    assert.strictEqual(normalizeSourcePath("c:/x.md"), undefined)
    assert.strictEqual(normalizeSourcePath("xC:/x.md"), "xC:/x.md")
    assert.strictEqual(normalizeSourcePath("C:x.md"), "C:x.md")
    assert.strictEqual(normalizeSourcePath("a/.."), undefined)
    assert.strictEqual(normalizeSourcePath("."), undefined)
    assert.strictEqual(normalizeSourcePath(""), undefined)
    assert.strictEqual(promptPackManifestPath("p"), ".agent/prompts/prompt-packs/p/manifest.json")
  })
})

describe("the manifest file, exactly", () => {
  it("names every bad source at its own index and every other bad field", () => {
    assert.deepStrictEqual(issuesOf({ id: "", domain: "d", system: [], inject: ["ok.md", 3, "/abs"], extract: 5, experienceSlots: -1 }), [
      "id: must be a non-empty string",
      "experienceSlots: must be a whole number, 0 or more",
      "system: must name at least one file",
      "inject.1: must be a file path (got 3)",
      "inject.2: must be a file path relative to the repository root, inside it (got \"/abs\")",
      "extract: must be a file path or an array of file paths"
    ])
    assert.deepStrictEqual(issuesOf({ id: "i", domain: "d", system: "../x.md" }), [
      "system: must be a file path relative to the repository root, inside it (got \"../x.md\")"
    ])
    assert.deepStrictEqual(issuesOf({ id: "i", domain: "d", system: "s.md", optimize: ["o.md"] }), [])
  })

  it("lists sources in section order, then manifest order, normalized, with their fields", () => {
    const manifest = Schema.decodeUnknownSync(PromptPackManifestFile)({
      id: "i",
      domain: "d",
      optimize: ["./o.md"],
      system: "a/./s.md",
      inject: ["z.md", "b.md"]
    })
    assert.deepStrictEqual(sourceRefsOf(manifest), [
      { section: "system", field: "system", path: "a/s.md" },
      { section: "inject", field: "inject.0", path: "z.md" },
      { section: "inject", field: "inject.1", path: "b.md" },
      { section: "optimize", field: "optimize.0", path: "o.md" }
    ])
  })
})

describe("stamp text and order, exactly", () => {
  it("orders by section, then by path in code-unit order, each source trimmed", () => {
    const text = promptPackStampText([
      { section: "optimize", path: "o.md", content: " o " },
      { section: "inject", path: "b.md", content: "b\n" },
      { section: "inject", path: "B.md", content: "B" },
      { section: "system", path: "s.md", content: "\n s" },
      { section: "inject", path: "b.md", content: "again" }
    ])
    assert.strictEqual(text, "system:s.md\ns\ninject:B.md\nB\ninject:b.md\nb\ninject:b.md\nagain\noptimize:o.md\no\n")
  })

  it("packs by domain, then id", () => {
    const entry = (domain: string, id: string): PromptPackEntry => ({ id, domain, stamp: "s", experience_slots: 0, sources: [] })
    const sorted = sortPromptPacks([entry("b", "1"), { ...entry("a", "2"), stamp: "first" }, entry("a", "1"), entry("b", "0"), entry("a", "2")])
    assert.deepStrictEqual(sorted.map((pack) => `${pack.domain}/${pack.id}/${pack.stamp}`), ["a/1/s", "a/2/first", "a/2/s", "b/0/s", "b/1/s"])
  })
})

describe("messages, exactly", () => {
  it("a missing stamp and a wrong one both give the stamp to set", () => {
    assert.strictEqual(
      new PromptPackStampMismatch({ path: "m.json", id: "p", expected: "abc" }).message,
      "Prompt pack p is not stamped: m.json has no \"stamp\". Review the pack's sources, then set \"stamp\" to abc in m.json."
    )
    assert.strictEqual(
      new PromptPackStampMismatch({ path: "m.json", id: "p", declared: "old", expected: "abc" }).message,
      "Prompt pack p stamp mismatch: m.json declares old, but its sources hash to abc. Review the pack's sources, then set \"stamp\" to abc in m.json."
    )
  })

  it("a number past the guardrail, and anything that is not a positive integer", () => {
    const fix = "Set TFGRPO_EXPERIENCE_MAX_WORDS to a whole number from 1 to 32, or unset it (default 32)."
    assert.strictEqual(new ExperienceWordLimitInvalid({ value: "040" }).message, `TFGRPO_EXPERIENCE_MAX_WORDS 40 exceeds the guardrail of 32. ${fix}`)
    assert.strictEqual(new ExperienceWordLimitInvalid({ value: "0" }).message, `TFGRPO_EXPERIENCE_MAX_WORDS must be a positive integer. Got "0". ${fix}`)
    assert.strictEqual(new ExperienceWordLimitInvalid({ value: "x5" }).message, `TFGRPO_EXPERIENCE_MAX_WORDS must be a positive integer. Got "x5". ${fix}`)
    assert.strictEqual(new ExperienceWordLimitInvalid({ value: "5x" }).message, `TFGRPO_EXPERIENCE_MAX_WORDS must be a positive integer. Got "5x". ${fix}`)
    assert.strictEqual(new ExperienceWordLimitInvalid({ value: " 40" }).message, `TFGRPO_EXPERIENCE_MAX_WORDS must be a positive integer. Got " 40". ${fix}`)
    assert.strictEqual(new ExperienceWordLimitInvalid({ value: "40 " }).message, `TFGRPO_EXPERIENCE_MAX_WORDS must be a positive integer. Got "40 ". ${fix}`)
  })
})
