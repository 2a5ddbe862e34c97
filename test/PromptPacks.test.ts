/**
 * Prompt packs (SPEC INS-4): manifest validation, the stamp and ordering (INS-5's word limit is a
 * setting: test/Settings.test.ts). The rules on PromptPacksMemory, then PromptPacksLive on a real temp dir, then the engine.
 */
import { createHash } from "node:crypto"
import { FileSystem, Path } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, TestClock } from "effect"
import { AppMemory } from "../src/layers/App.js"
import { FilesLive } from "../src/layers/Files.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ProcessInvocations } from "../src/layers/ProcessRunner.js"
import { PromptPacksLive, PromptPacksMemory } from "../src/layers/PromptPacks.js"
import { PromptPacks } from "../src/services/PromptPacks.js"
import { RunEngine } from "../src/services/RunEngine.js"
import { listFiles, manifestFile } from "./support/files.js"
import { commandStage, nestedStage, pipeline } from "./support/pipelines.js"

type Section = "system" | "inject" | "summarize" | "extract" | "optimize"
const sectionOrder: ReadonlyArray<Section> = ["system", "inject", "summarize", "extract", "optimize"]

/**
 * An independent oracle for INS-4's stamp: node:crypto, fed incrementally as the original did, over
 * the sources sorted by section, then path.
 */
const stampOf = (sources: ReadonlyArray<readonly [Section, string, string]>) => {
  const hash = createHash("sha256")
  const sorted = [...sources].sort(([sa, pa], [sb, pb]) =>
    sa === sb ? (pa < pb ? -1 : pa > pb ? 1 : 0) : sectionOrder.indexOf(sa) - sectionOrder.indexOf(sb)
  )
  for (const [section, path, content] of sorted) {
    hash.update(`${section}:${path}\n`, "utf8")
    hash.update(content.trim(), "utf8")
    hash.update("\n", "utf8")
  }
  return hash.digest("hex")
}

const manifestPath = (name: string) => `.agent/prompts/prompt-packs/${name}/manifest.json`

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

const wrongStamp = "0".repeat(64)

/** A one-file pack in folder `name`, correctly stamped unless `stamp` is given. */
const simplePack = (name: string, id: string, domain: string, stamp?: string): Record<string, string> => {
  const file = `.agent/prompts/${name}.md`
  const content = `# ${name}\n`
  return {
    [file]: content,
    [manifestPath(name)]: json({ id, domain, stamp: stamp ?? stampOf([["system", file, content]]), system: file })
  }
}

const loadWith = (files: Readonly<Record<string, string>>) =>
  Effect.flatMap(PromptPacks, (packs) => packs.load).pipe(Effect.either, Effect.provide(PromptPacksMemory(files)))

/** `load` that must succeed. */
const loadClean = (files: Readonly<Record<string, string>>) =>
  Effect.gen(function*() {
    const result = yield* loadWith(files)
    if (result._tag === "Left") return yield* Effect.dieMessage(`load failed: ${result.left.message}`)
    return result.right
  })

/** `load` that must fail. */
const loadError = (files: Readonly<Record<string, string>>) =>
  Effect.gen(function*() {
    const result = yield* loadWith(files)
    if (result._tag === "Right") return yield* Effect.dieMessage(`load succeeded: ${JSON.stringify(result.right)}`)
    return result.left
  })

describe("PromptPacksMemory", () => {
  it.effect("no packs folder: no packs", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* loadClean({}), [])
      // Files elsewhere, a manifest outside a pack folder and a folder without a manifest are not packs.
      assert.deepStrictEqual(
        yield* loadClean({
          "AGENTS.md": "# Agents\n",
          ".agent/prompts/prompt-packs/manifest.json": "{}",
          ".agent/prompts/prompt-packs/draft/system.md": "# Draft\n",
          ".agent/prompts/prompt-packs/a/b/manifest.json": "{}"
        }),
        []
      )
    }))

  it.effect("a valid pack: its entry, with sources in section order and the stamp over trimmed contents", () =>
    Effect.gen(function*() {
      const files = {
        ".agent/prompts/system.md": "\n  # System\nBe precise.\n\n",
        ".agent/prompts/b.md": "inject b\n",
        ".agent/prompts/a.md": "inject a\n",
        ".agent/prompts/summary.md": "summarize\n"
      }
      // The stamp sorts by section, then path: a.md before b.md although the manifest lists b.md first.
      const stamp = stampOf([
        ["system", ".agent/prompts/system.md", files[".agent/prompts/system.md"]],
        ["inject", ".agent/prompts/b.md", files[".agent/prompts/b.md"]],
        ["inject", ".agent/prompts/a.md", files[".agent/prompts/a.md"]],
        ["summarize", ".agent/prompts/summary.md", files[".agent/prompts/summary.md"]],
        ["optimize", ".agent/prompts/system.md", files[".agent/prompts/system.md"]]
      ])
      const packs = yield* loadClean({
        ...files,
        [manifestPath("implementation")]: json({
          id: "impl-pack",
          domain: "implementation",
          stamp,
          experienceSlots: 2,
          system: ".agent/prompts/system.md",
          inject: [".agent/prompts/b.md", "./.agent/prompts/a.md"], // paths are normalized
          summarize: ".agent/prompts/summary.md",
          extract: [],
          optimize: [".agent/prompts/system.md"]
        })
      })
      assert.deepStrictEqual(packs, [{
        id: "impl-pack",
        domain: "implementation",
        stamp,
        experience_slots: 2,
        sources: [
          ".agent/prompts/system.md",
          ".agent/prompts/b.md",
          ".agent/prompts/a.md",
          ".agent/prompts/summary.md",
          ".agent/prompts/system.md"
        ]
      }])
    }))

  it.effect("system may be an array; experienceSlots defaults to 0", () =>
    Effect.gen(function*() {
      const stamp = stampOf([["system", "s1.md", "one"], ["system", "s2.md", "two"]])
      const packs = yield* loadClean({
        "s1.md": "one",
        "s2.md": "two",
        [manifestPath("p")]: json({ id: "p", domain: "d", stamp, system: ["s2.md", "s1.md"] })
      })
      assert.deepStrictEqual(packs, [{ id: "p", domain: "d", stamp, experience_slots: 0, sources: ["s2.md", "s1.md"] }])
    }))

  it.effect("a pack without a stamp is refused with the stamp to set", () =>
    Effect.gen(function*() {
      const expected = stampOf([["system", "s.md", "# S"]])
      for (const stamp of [undefined, ""]) {
        const error = yield* loadError({
          "s.md": "# S\n",
          [manifestPath("p")]: json({ id: "p", domain: "d", ...(stamp === undefined ? {} : { stamp }), system: "s.md" })
        })
        assert(error._tag === "PromptPackStampMismatch")
        assert.strictEqual(error.path, manifestPath("p"))
        assert.strictEqual(error.expected, expected)
        assert.isUndefined(error.declared)
        assert.strictEqual(
          error.message,
          `Prompt pack p is not stamped: ${manifestPath("p")} has no "stamp". ` +
            `Review the pack's sources, then set "stamp" to ${expected} in ${manifestPath("p")}.`
        )
      }
    }))

  it.effect("a wrong stamp is refused: a source edited after stamping", () =>
    Effect.gen(function*() {
      const files = simplePack("p", "p", "d")
      const edited = { ...files, ".agent/prompts/p.md": "# p\nedited\n" }
      const expected = stampOf([["system", ".agent/prompts/p.md", "# p\nedited"]])
      const error = yield* loadError(edited)
      assert(error._tag === "PromptPackStampMismatch")
      assert.include(error.message, `Prompt pack p stamp mismatch: ${manifestPath("p")} declares `)
      assert.include(error.message, `set "stamp" to ${expected} in ${manifestPath("p")}.`)

      const wrong = yield* loadError(simplePack("p", "p", "d", wrongStamp))
      assert(wrong._tag === "PromptPackStampMismatch")
      assert.strictEqual(wrong.declared, wrongStamp)
      // Whitespace around a source's content is not part of the stamp.
      assert.deepStrictEqual(
        (yield* loadClean({ ...files, ".agent/prompts/p.md": "\n\n# p   \n\n" })).map((p) => p.id),
        ["p"]
      )
    }))

  it.effect("a missing or blank source file is refused, every one listed by field", () =>
    Effect.gen(function*() {
      const error = yield* loadError({
        "s.md": "# S\n",
        "blank.md": " \n\t\n",
        [manifestPath("p")]: json({
          id: "p",
          domain: "d",
          stamp: wrongStamp,
          system: "s.md",
          inject: ["s.md", "gone.md"],
          extract: "blank.md"
        })
      })
      assert(error._tag === "InvalidFile")
      assert.strictEqual(error.path, manifestPath("p"))
      assert.deepStrictEqual(error.issues, ["inject.1: gone.md does not exist", "extract: blank.md is empty"])
      assert.include(error.message, "must exist and not be blank")
    }))

  it.effect("a malformed manifest lists every bad field", () =>
    Effect.gen(function*() {
      const error = yield* loadError({
        [manifestPath("p")]: json({
          id: "",
          domain: 3,
          stamp: 7,
          experienceSlots: -1,
          system: 5,
          inject: ["../outside.md", 4],
          summarize: "/etc/passwd"
        })
      })
      assert(error._tag === "InvalidFile")
      assert.strictEqual(error.path, manifestPath("p"))
      assert.deepStrictEqual(error.issues, [
        "id: must be a non-empty string",
        "domain: Expected string, actual 3",
        "stamp: Expected string, actual 7",
        "experienceSlots: must be a whole number, 0 or more",
        "system: must be a file path or an array of file paths",
        `inject.0: must be a file path relative to the repository root, inside it (got "../outside.md")`,
        "inject.1: must be a file path (got 4)",
        `summarize: must be a file path relative to the repository root, inside it (got "/etc/passwd")`
      ])

      const missing = yield* loadError({ [manifestPath("p")]: json({ system: [] }) })
      assert(missing._tag === "InvalidFile")
      assert.deepStrictEqual(missing.issues, ["id: is missing", "domain: is missing", "system: must name at least one file"])

      const notJson = yield* loadError({ [manifestPath("p")]: "{ id: p" })
      assert(notJson._tag === "InvalidFile")
      assert.strictEqual(notJson.issues.length, 1)
      assert.include(notJson.message, `${manifestPath("p")} is not valid: (root): `)
    }))

  it.effect("packs are sorted by domain, then id, whatever their folders are called", () =>
    Effect.gen(function*() {
      const packs = yield* loadClean({
        ...simplePack("a", "zeta", "review"),
        ...simplePack("b", "beta", "implementation"),
        ...simplePack("c", "alpha", "review"),
        ...simplePack("d", "gamma", "diagnostics")
      })
      assert.deepStrictEqual(packs.map((p) => `${p.domain}/${p.id}`), [
        "diagnostics/gamma",
        "implementation/beta",
        "review/alpha",
        "review/zeta"
      ])
    }))
})

describe("PromptPacksLive", () => {
  it.scoped("reads the pack folders under the repository root", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const dir = yield* fs.makeTempDirectoryScoped()
      const live = PromptPacksLive.pipe(Layer.provide(Layer.merge(OrchestratorConfigTest(dir), FilesLive)))
      const load = Effect.flatMap(PromptPacks, (packs) => packs.load).pipe(Effect.provide(live))

      assert.deepStrictEqual(yield* load, [], "no packs folder")

      const packsDir = path.join(dir, ".agent", "prompts", "prompt-packs")
      yield* fs.makeDirectory(path.join(packsDir, "impl"), { recursive: true })
      yield* fs.makeDirectory(path.join(packsDir, "draft")) // no manifest: not a pack
      yield* fs.writeFileString(path.join(packsDir, "README.md"), "not a pack folder\n")
      yield* fs.writeFileString(path.join(dir, ".agent", "prompts", "system.md"), "# System\n")
      const stamp = stampOf([["system", ".agent/prompts/system.md", "# System"]])
      const write = (value: unknown) => fs.writeFileString(path.join(packsDir, "impl", "manifest.json"), json(value))
      yield* write({ id: "impl", domain: "implementation", stamp, system: ".agent/prompts/system.md" })

      assert.deepStrictEqual(yield* load, [{
        id: "impl",
        domain: "implementation",
        stamp,
        experience_slots: 0,
        sources: [".agent/prompts/system.md"]
      }])

      yield* write({ id: "impl", domain: "implementation", stamp: wrongStamp, system: ".agent/prompts/system.md" })
      const mismatch = yield* Effect.flip(load)
      assert(mismatch._tag === "PromptPackStampMismatch")
      assert.strictEqual(mismatch.path, ".agent/prompts/prompt-packs/impl/manifest.json")

      yield* write({ id: "impl", domain: "implementation", stamp, system: ".agent/prompts/gone.md" })
      const missing = yield* Effect.flip(load)
      assert(missing._tag === "InvalidFile")
      assert.deepStrictEqual(missing.issues, ["system: .agent/prompts/gone.md does not exist"])
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("RunEngine with prompt packs", () => {
  const parent = pipeline("parent", [commandStage("a", "echo a"), nestedStage("nested", "child")])
  const child = pipeline("child", [commandStage("b", "echo b")])
  const engineApp = (promptPacks: Readonly<Record<string, string>>) =>
    AppMemory({ scripts: { "echo a": {}, "echo b": {} }, pipelines: { user: [parent, child] }, promptPacks })

  it.effect("records the packs in the manifest, and in nested runs' manifests", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "parent", taskId: "t" }))
      yield* TestClock.adjust("1 minute")
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "the run did not finish")
      const { layout, manifest } = yield* Fiber.join(fiber)
      assert.strictEqual(manifest.status, "succeeded")
      const written = yield* manifestFile(layout.manifest)
      assert.deepStrictEqual(written.prompt_packs?.map((p) => p.id), ["b-pack", "a-pack"])
      const childRun = written.child_runs[0]
      assert.isDefined(childRun)
      const childManifest = yield* manifestFile(`/repo/${childRun?.manifest}`)
      assert.deepStrictEqual(childManifest.prompt_packs, written.prompt_packs)
    }).pipe(Effect.provide(engineApp({ ...simplePack("x", "a-pack", "review"), ...simplePack("y", "b-pack", "diagnostics") }))))

  it.effect("no packs: an empty prompt_packs", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const fiber = yield* Effect.fork(engine.start({ pipelineId: "child", taskId: "t" }))
      yield* TestClock.adjust("1 minute")
      const { layout } = yield* Fiber.join(fiber)
      assert.deepStrictEqual((yield* manifestFile(layout.manifest)).prompt_packs, [])
    }).pipe(Effect.provide(engineApp({}))))

  it.effect("a pack with a wrong stamp is bad input: nothing is written and nothing runs (D-1)", () =>
    Effect.gen(function*() {
      const engine = yield* RunEngine
      const error = yield* Effect.flip(engine.start({ pipelineId: "parent", taskId: "t" }))
      assert.strictEqual(error._tag, "PromptPackStampMismatch")
      // Only the repository's own pack files are there: nothing was written.
      assert.deepStrictEqual(yield* listFiles, Object.keys(simplePack("x", "a-pack", "review", wrongStamp)).map((file) => `/repo/${file}`).sort())
      assert.deepStrictEqual(yield* Effect.flatMap(ProcessInvocations, (p) => p.all), [])
    }).pipe(Effect.provide(engineApp(simplePack("x", "a-pack", "review", wrongStamp)))))
})
