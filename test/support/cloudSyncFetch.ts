/**
 * CloudSyncLive on the platform's fetch client (the one the CLI uses) with `fetch` itself replaced,
 * a memory credential broker, in-memory files and a repository at /repo.
 */
import { FetchHttpClient, Path } from "@effect/platform"
import { Layer } from "effect"
import { CloudSyncLive } from "../../src/layers/CloudSync.js"
import { CredentialBrokerMemory } from "../../src/layers/CredentialBroker.js"
import { FilesMemory } from "../../src/layers/Files.js"
import { OrchestratorConfigTest } from "../../src/layers/OrchestratorConfig.js"

export const cloudSyncOnFetch = (fetch: typeof globalThis.fetch) =>
  CloudSyncLive.pipe(
    Layer.provideMerge(Layer.mergeAll(
      FetchHttpClient.layer.pipe(Layer.provide(Layer.succeed(FetchHttpClient.Fetch, fetch))),
      CredentialBrokerMemory([{ service: "codex-cloud", scope: "runs:write", token: "t0ken-value" }]),
      FilesMemory,
      OrchestratorConfigTest("/repo"),
      Path.layer
    ))
  )
