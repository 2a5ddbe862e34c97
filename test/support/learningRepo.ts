/**
 * Real git repositories and the Live learning pipeline for the learning integration tests: a
 * temporary repository with a local identity, and a capture run through the library (NodeContext,
 * ProcessRunnerLive, FilesLive, LearningLive) with the environment given as a ConfigProvider.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { Path } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { ConfigProvider, Effect, Layer } from "effect"
import type { LearningSection } from "../../src/domain/LearningRecords.js"
import type { CommandEntry } from "../../src/domain/Manifest.js"
import { makeRunLayout, type RunLayout } from "../../src/domain/RunLayout.js"
import { FilesLive } from "../../src/layers/Files.js"
import { LearningLive } from "../../src/layers/Learning.js"
import { OrchestratorConfigTest } from "../../src/layers/OrchestratorConfig.js"
import { HostLive } from "../../src/layers/Host.js"
import { ProcessRunnerLive } from "../../src/layers/ProcessRunner.js"
import { Learning } from "../../src/services/Learning.js"
import { commandEntry, finishedManifest } from "./learning.js"
import { EntropyLive } from "../../src/layers/Entropy.js"

export const git = (cwd: string, ...args: ReadonlyArray<string>): string =>
  execFileSync("git", args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })

export const writeFile = (root: string, file: string, content: string | Uint8Array = `${file}\n`) => {
  mkdirSync(dirname(join(root, file)), { recursive: true })
  writeFileSync(join(root, file), content)
}

/** A temporary folder; with `files`, a git repository with them committed (identity set locally). */
export const makeDir = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix))

export const makeGitRepo = (files: Readonly<Record<string, string>>): string => {
  const dir = makeDir("learning-repo-")
  git(dir, "init", "-q", "-b", "main")
  git(dir, "config", "user.email", "learning@example.com")
  git(dir, "config", "user.name", "Learning Test")
  git(dir, "config", "commit.gpgsign", "false")
  git(dir, "config", "tag.gpgsign", "false")
  for (const [file, content] of Object.entries(files)) writeFile(dir, file, content)
  git(dir, "add", "-A")
  git(dir, "commit", "-q", "-m", "initial")
  return dir
}

export interface CaptureOptions {
  readonly env?: Readonly<Record<string, string>>
  readonly commands?: ReadonlyArray<CommandEntry>
  /** The runs root (`<repoRoot>/.runs` by default). */
  readonly runsRoot?: string
}

/** Runs the Live pipeline on a succeeded run of `commands` (one `echo ok` by default) in `repoRoot`. */
export const captureIn = (
  repoRoot: string,
  options: CaptureOptions = {}
): Promise<{ readonly section: LearningSection; readonly layout: RunLayout }> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const layout = makeRunLayout(path, { repoRoot, runsRoot: options.runsRoot ?? join(repoRoot, ".runs"), outRoot: join(repoRoot, "out") }, "task", "run-1")
    const manifest = finishedManifest(layout, options.commands ?? [commandEntry(1, "echo ok")])
    const section = yield* Effect.flatMap(Learning, (learning) => learning.capture({ manifest, layout }))
    return { section, layout }
  }).pipe(
    Effect.provide(
      LearningLive.pipe(
        Layer.provideMerge(Layer.mergeAll(FilesLive, ProcessRunnerLive, EntropyLive, OrchestratorConfigTest(repoRoot))),
        Layer.provideMerge(Layer.provideMerge(HostLive, NodeContext.layer)),
        Layer.provide(Layer.setConfigProvider(
          ConfigProvider.fromMap(new Map(Object.entries({ LEARNING_PIPELINE_ENABLED: "1", ...options.env })))
        ))
      )
    ),
    Effect.runPromise
  )
