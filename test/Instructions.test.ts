/**
 * Agent instruction files (SPEC INS-1..3, DECISIONS D-15): which files count, stamps, the combined
 * hash. The rules on InstructionsMemory, then InstructionsLive on a real temp dir.
 */
import { createHash } from "node:crypto"
import { FileSystem, Path } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger, LogLevel } from "effect"
import { combinedInstructions, InstructionStampMismatch, parseInstructionFile } from "../src/domain/Instructions.js"
import { AppMemory } from "../src/layers/App.js"
import { InstructionsLive, InstructionsMemory } from "../src/layers/Instructions.js"
import { FilesLive } from "../src/layers/Files.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ProcessInvocations } from "../src/layers/ProcessRunner.js"
import { Instructions } from "../src/services/Instructions.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { listFiles, manifestFile } from "./support/files.js"
import { commandStage, nestedStage, pipeline } from "./support/pipelines.js"

/** An independent oracle: node:crypto, not the Web Crypto the layer uses. */
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex")

const stamped = (body: string, stamp: string = sha256(body)) => `<!-- codex:instruction-stamp ${stamp} -->\n${body}`

const wrongStamp = "0".repeat(64)

/** Runs `resolve` on the given files and collects the warnings it logs. */
const resolveWith = (files: Readonly<Record<string, string>>) =>
  Effect.gen(function*() {
    const warnings: Array<string> = []
    const capture = Logger.make(({ logLevel, message }) => {
      if (LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)) {
        warnings.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
      }
    })
    const result = yield* Effect.flatMap(Instructions, (i) => i.resolve).pipe(
      Effect.either,
      Effect.provide(Layer.merge(InstructionsMemory(files), Logger.replace(Logger.defaultLogger, capture)))
    )
    return { result, warnings: [...warnings] }
  })

/** `resolve` that must succeed without warnings. */
const resolveClean = (files: Readonly<Record<string, string>>) =>
  Effect.gen(function*() {
    const { result, warnings } = yield* resolveWith(files)
    assert.deepStrictEqual(warnings, [])
    assert.isTrue(result._tag === "Right", `resolve failed: ${result._tag === "Left" ? result.left.message : ""}`)
    if (result._tag === "Left") return yield* Effect.die(result.left)
    return result.right
  })

describe("parseInstructionFile", () => {
  it("splits the stamp, the optional line break and the body", () => {
    const hex = "ab".repeat(32)
    assert.deepStrictEqual(parseInstructionFile(`<!-- codex:instruction-stamp ${hex} -->\n# A\n`), {
      stamp: hex,
      body: "# A\n"
    })
    assert.deepStrictEqual(parseInstructionFile(`\uFEFF<!-- codex:instruction-stamp ${hex.toUpperCase()} -->\r\n# A`), {
      stamp: hex,
      body: "# A"
    })
    assert.deepStrictEqual(parseInstructionFile(`<!-- codex:instruction-stamp ${hex} --># A`), { stamp: hex, body: "# A" })
  })

  it("treats a file without a well-formed stamp as all body", () => {
    assert.deepStrictEqual(parseInstructionFile("\uFEFF# A\n"), { stamp: undefined, body: "# A\n" })
    const short = "<!-- codex:instruction-stamp abc -->\n# A"
    assert.deepStrictEqual(parseInstructionFile(short), { stamp: undefined, body: short })
    const later = `# A\n<!-- codex:instruction-stamp ${"ab".repeat(32)} -->\n`
    assert.deepStrictEqual(parseInstructionFile(later), { stamp: undefined, body: later })
  })

  it("combines trimmed bodies with a blank line (INS-3)", () => {
    assert.strictEqual(combinedInstructions(["\n# A\n", "  b  \n"]), "# A\n\nb")
  })
})

describe("InstructionsMemory", () => {
  it.effect("no files: null hash, no sources", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* resolveClean({}), { hash: null, sources: [] })
    }))

  it.effect("skips empty files and empty bodies, even with a wrong stamp", () =>
    Effect.gen(function*() {
      const resolved = yield* resolveClean({
        "AGENTS.md": stamped("  \n", wrongStamp),
        "docs/AGENTS.md": "",
        ".agent/AGENTS.md": stamped("")
      })
      assert.deepStrictEqual(resolved, { hash: null, sources: [] })
    }))

  it.effect("hashes an unstamped file's trimmed body (INS-3 example, D-15)", () =>
    Effect.gen(function*() {
      const resolved = yield* resolveClean({ "AGENTS.md": "# Agents\nbe nice\n" })
      assert.deepStrictEqual(resolved, { hash: sha256("# Agents\nbe nice"), sources: ["AGENTS.md"] })
      assert.strictEqual(resolved.hash, "0a3215b82e3b058fc69a6c5901ba622e2e66187a43bb036c62923622da229dac")
    }))

  it.effect("accepts a correct stamp, in either case, and hashes the body without it", () =>
    Effect.gen(function*() {
      const body = "# Agents\nbe nice\n"
      assert.deepStrictEqual(yield* resolveClean({ "AGENTS.md": stamped(body) }), {
        hash: sha256("# Agents\nbe nice"),
        sources: ["AGENTS.md"]
      })
      assert.deepStrictEqual(yield* resolveClean({ "AGENTS.md": stamped(body, sha256(body).toUpperCase()) }), {
        hash: sha256("# Agents\nbe nice"),
        sources: ["AGENTS.md"]
      })
    }))

  it.effect("refuses AGENTS.md whose stamp does not match its body", () =>
    Effect.gen(function*() {
      const body = "# Agents\nedited after stamping\n"
      const { result } = yield* resolveWith({ "AGENTS.md": stamped(body, wrongStamp), "docs/AGENTS.md": "fine" })
      assert.isTrue(result._tag === "Left")
      if (result._tag !== "Left") return
      const error = result.left
      assert.instanceOf(error, InstructionStampMismatch)
      assert.strictEqual(error._tag, "InstructionStampMismatch")
      if (error._tag !== "InstructionStampMismatch") return
      assert.strictEqual(error.path, "AGENTS.md")
      assert.strictEqual(error.expected, wrongStamp)
      assert.strictEqual(error.actual, sha256(body))
      assert.strictEqual(
        error.message,
        `Instruction AGENTS.md stamp mismatch: the codex:instruction-stamp does not match the file's content. ` +
          `Update the stamp to ${sha256(body)} or remove it.`
      )
    }))

  it.effect("skips an optional file whose stamp does not match, with a warning", () =>
    Effect.gen(function*() {
      const { result, warnings } = yield* resolveWith({
        "AGENTS.md": "root",
        "docs/AGENTS.md": stamped("docs, edited\n", wrongStamp),
        ".agent/AGENTS.md": stamped("agent\n")
      })
      assert.deepStrictEqual(result._tag === "Right" ? result.right : result.left, {
        hash: sha256("root\n\nagent"),
        sources: ["AGENTS.md", ".agent/AGENTS.md"]
      })
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0] ?? "", "Instruction docs/AGENTS.md stamp mismatch")
      assert.include(warnings[0] ?? "", `Update the stamp to ${sha256("docs, edited\n")} or remove it.`)
      assert.include(warnings[0] ?? "", "skipped")
    }))

  it.effect("combines the sources in order: AGENTS.md, docs/AGENTS.md, .agent/AGENTS.md (INS-1)", () =>
    Effect.gen(function*() {
      const resolved = yield* resolveClean({
        ".agent/AGENTS.md": "\n  third  \n",
        "docs/AGENTS.md": stamped("second\n"),
        "AGENTS.md": "first\n\n"
      })
      assert.deepStrictEqual(resolved, {
        hash: sha256("first\n\nsecond\n\nthird"),
        sources: ["AGENTS.md", "docs/AGENTS.md", ".agent/AGENTS.md"]
      })
    }))

  it.effect("ignores other paths", () =>
    Effect.gen(function*() {
      const resolved = yield* resolveClean({ "agents.md": "x", "docs/agents/AGENTS.md": "y", "AGENTS": "z" })
      assert.deepStrictEqual(resolved, { hash: null, sources: [] })
    }))

  it.effect("accepts a BOM before the stamp or the body, and CRLF after the stamp", () =>
    Effect.gen(function*() {
      const body = "# Agents\r\nbe nice\r\n"
      const withStamp = yield* resolveClean({ "AGENTS.md": `\uFEFF<!-- codex:instruction-stamp ${sha256(body)} -->\r\n${body}` })
      assert.deepStrictEqual(withStamp, { hash: sha256("# Agents\r\nbe nice"), sources: ["AGENTS.md"] })
      const noStamp = yield* resolveClean({ "AGENTS.md": "\uFEFF# Agents\nbe nice\n" })
      assert.deepStrictEqual(noStamp, { hash: sha256("# Agents\nbe nice"), sources: ["AGENTS.md"] })
    }))
})

describe("InstructionsLive", () => {
  it.scoped("reads the sources under the repository root; missing ones are skipped", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const dir = yield* fs.makeTempDirectoryScoped()
      yield* fs.writeFileString(path.join(dir, "AGENTS.md"), stamped("# Agents\nbe nice\n"))
      yield* fs.makeDirectory(path.join(dir, ".agent"))
      yield* fs.writeFileString(path.join(dir, ".agent", "AGENTS.md"), "\uFEFFlocal\n")
      const live = InstructionsLive.pipe(Layer.provide(Layer.merge(OrchestratorConfigTest(dir), FilesLive)))

      const resolved = yield* Effect.flatMap(Instructions, (i) => i.resolve).pipe(Effect.provide(live))
      assert.deepStrictEqual(resolved, {
        hash: sha256("# Agents\nbe nice\n\nlocal"),
        sources: ["AGENTS.md", ".agent/AGENTS.md"]
      })

      yield* fs.writeFileString(path.join(dir, "AGENTS.md"), stamped("# Agents\nedited\n", wrongStamp))
      const error = yield* Effect.flatMap(Instructions, (i) => i.resolve).pipe(Effect.provide(live), Effect.flip)
      assert.strictEqual(error._tag, "InstructionStampMismatch")
      assert.include(error.message, "Instruction AGENTS.md stamp mismatch")
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("RunEngine with instructions", () => {
  const parent = pipeline("parent", [commandStage("a", "echo a"), nestedStage("nested", "child")])
  const child = pipeline("child", [commandStage("b", "echo b")])
  const engineApp = (instructions: Readonly<Record<string, string>>) =>
    AppMemory({ scripts: { "echo a": {}, "echo b": {} }, pipelines: { user: [parent, child] }, instructions })

  it.effect("records the hash and sources in the manifest, and in nested runs' manifests", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      // The hashes come from Web Crypto (a real promise), so the run is joined, not polled after the
      // clock moves: polling raced the promise and made this test flaky.
      const { layout, manifest } = yield* engine.start({ pipelineId: "parent", taskId: "t" })
      assert.strictEqual(manifest.status, "succeeded")
      const expected = { hash: sha256("# Agents\nbe nice\n\ndocs"), sources: ["AGENTS.md", "docs/AGENTS.md"] }
      const written = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual({ hash: written.instructions_hash, sources: written.instructions_sources }, expected)
      const childRun = written.child_runs[0]
      assert.isDefined(childRun)
      const childManifest = yield* manifestFile(`/repo/${childRun?.manifest}`)
      assert.deepStrictEqual(
        { hash: childManifest.instructions_hash, sources: childManifest.instructions_sources },
        expected
      )
    }).pipe(Effect.provide(engineApp({ "AGENTS.md": stamped("# Agents\nbe nice\n"), "docs/AGENTS.md": "docs" }))))

  it.effect("a mismatched AGENTS.md stamp is bad input: nothing is written and nothing runs (D-1, D-15)", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const error = yield* Effect.flip(engine.start({ pipelineId: "parent", taskId: "t" }))
      assert.strictEqual(error._tag, "InstructionStampMismatch")
      // Only the repository's own file is there: nothing was written.
      assert.deepStrictEqual(yield* listFiles, ["/repo/AGENTS.md"])
      assert.deepStrictEqual(yield* Effect.flatMap(ProcessInvocations, (p) => p.all), [])
    }).pipe(Effect.provide(engineApp({ "AGENTS.md": stamped("# Agents\n", wrongStamp) }))))
})
