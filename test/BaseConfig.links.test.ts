/**
 * Roots reached through a symbolic link (ENV-2, D-5): a runs or out root inside the repository once
 * links are resolved is said under the repository root, so every path recorded relative to the
 * repository stays inside it. Seen on the built CLI: in a shell whose $PWD is a link to the repository,
 * `CODEX_ORCHESTRATOR_RUNS_DIR=$PWD/.runs` recorded `../lnk/.runs/<task>/cli/<run>/...` in the
 * manifest, the learning records and every message (the working directory is the real path). Real
 * folders and links in a temporary directory.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Path } from "@effect/platform"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { BaseConfigLive } from "../src/layers/BaseConfig.js"
import { BaseConfig } from "../src/services/BaseConfig.js"

const top = realpathSync(mkdtempSync(join(tmpdir(), "base-config-links-")))
const repo = join(top, "repo")
const elsewhere = join(top, "elsewhere")
mkdirSync(join(repo, ".runs"), { recursive: true })
mkdirSync(elsewhere)
// `lnk` is the repository by another name; `repo/outside` leads out of it.
symlinkSync(repo, join(top, "lnk"))
symlinkSync(elsewhere, join(repo, "outside"))
afterAll(() => rmSync(top, { recursive: true, force: true }))

const roots = (env: Record<string, string>) =>
  Effect.map(
    BaseConfig.pipe(
      Effect.provide(BaseConfigLive.pipe(Layer.provide(Layer.merge(Path.layer, NodeFileSystem.layer)))),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)), { pathDelim: "_" }))
    ),
    (settings) => settings.roots
  )

describe("roots through symbolic links", () => {
  it.effect("a runs root given through a link to the repository is the folder under the repository root", () =>
    Effect.gen(function*() {
      const found = yield* roots({
        CODEX_ORCHESTRATOR_ROOT: repo,
        CODEX_ORCHESTRATOR_RUNS_DIR: join(top, "lnk", ".runs"),
        // Not made yet: judged by the real path of the folder that holds it.
        CODEX_ORCHESTRATOR_OUT_DIR: join(top, "lnk", "out", "deeper")
      })
      assert.deepStrictEqual(found, { repoRoot: repo, runsRoot: join(repo, ".runs"), outRoot: join(repo, "out", "deeper") })
    }))

  it.effect("a repository root given through a link keeps its name: roots given by their real path are said under it", () =>
    Effect.gen(function*() {
      const lnk = join(top, "lnk")
      const found = yield* roots({ CODEX_ORCHESTRATOR_ROOT: lnk, CODEX_ORCHESTRATOR_RUNS_DIR: join(repo, ".runs") })
      assert.deepStrictEqual(found, { repoRoot: lnk, runsRoot: join(lnk, ".runs"), outRoot: join(lnk, "out") })
    }))

  it.effect("roots outside the repository, and roots under it that a link leads out of, are kept as given", () =>
    Effect.gen(function*() {
      const found = yield* roots({
        CODEX_ORCHESTRATOR_ROOT: repo,
        CODEX_ORCHESTRATOR_RUNS_DIR: join(elsewhere, "runs"),
        CODEX_ORCHESTRATOR_OUT_DIR: join(repo, "outside", "out")
      })
      assert.deepStrictEqual(found, { repoRoot: repo, runsRoot: join(elsewhere, "runs"), outRoot: join(repo, "outside", "out") })
    }))
})
