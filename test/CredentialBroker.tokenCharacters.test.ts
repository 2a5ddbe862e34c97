/**
 * A token holding a space, a line break or a character outside printable ASCII inside it (SYNC-1):
 * no HTTP header can carry it. Found by a fault hunt: a token pasted with a line break in it, or a
 * helper's JSON with `"tok en"`, reached fetch, whose TypeError quoted the header (the token) and was
 * retried three times as a network error. It is refused where it is read, saying why, never quoting it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, ConfigProvider, Effect, Layer } from "effect"
import { loadCloudSyncSettings } from "../src/layers/CloudSync.js"
import { CredentialBrokerEnv, CredentialBrokerHelper, CredentialBrokerMemory } from "../src/layers/CredentialBroker.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ProcessRunnerMemory } from "../src/layers/ProcessRunner.js"
import { CredentialBroker } from "../src/services/CredentialBroker.js"

const request = { service: "codex-cloud", scope: "runs:write" }
const getToken = Effect.flatMap(CredentialBroker, (broker) => broker.getToken(request))
const withEnv = (env: Record<string, string>) => Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

/** Tokens with what no header carries inside them; each half is 6+ characters, so neither may be shown. */
const bad = ["abcdef\nghijkl", "abcdef ghijkl", "abcdef\tghijkl", "abcdef\u0000ghijkl", "abcdef\u2026ghijkl", "abcdef\rghijkl"]

const assertQuotesNeither = (text: string, token: string) => {
  assert.notInclude(text, "abcdef", JSON.stringify(token))
  assert.notInclude(text, "ghijkl", JSON.stringify(token))
}

describe("a token with a space, a line break or a character outside printable ASCII inside it", () => {
  it.effect("CODEX_CLOUD_TOKEN: not handed out, saying why, never quoting it", () =>
    Effect.gen(function*() {
      for (const token of bad) {
        const error = yield* getToken.pipe(Effect.provide(CredentialBrokerEnv), withEnv({ CODEX_CLOUD_TOKEN: token }), Effect.flip)
        assert.strictEqual(error._tag, "CredentialUnavailable")
        assert.include(error.message, "CODEX_CLOUD_TOKEN")
        assert.include(error.message, "no HTTP header can carry it")
        assertQuotesNeither([error.message, JSON.stringify(error), Cause.pretty(Cause.fail(error))].join("\n"), token)
      }
    }))

  it.effect("with cloud sync on, CODEX_CLOUD_TOKEN is bad input naming the variable, never its value", () =>
    Effect.gen(function*() {
      for (const token of bad) {
        const env = { CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_WORKSPACE_ID: "ws", CODEX_CLOUD_TOKEN: token }
        const error = yield* loadCloudSyncSettings.pipe(withEnv(env), Effect.flip)
        assert.strictEqual(error.variable, "CODEX_CLOUD_TOKEN")
        assert.include(error.message, "no HTTP header can carry it")
        assertQuotesNeither(error.message, token)
      }
    }))

  it.effect("a helper that prints one (JSON or a bare line) fails, saying why, never quoting it", () =>
    Effect.gen(function*() {
      for (const token of bad) {
        for (const printed of [JSON.stringify({ token }), ...(token.includes("\n") || token.includes("\r") ? [] : [`${token}\n`])]) {
          const helper = CredentialBrokerHelper("cred-helper").pipe(
            Layer.provideMerge(Layer.merge(
              ProcessRunnerMemory({ "cred-helper": { output: [{ stream: "stdout", data: printed }] } }),
              OrchestratorConfigTest("/repo")
            ))
          )
          const error = yield* getToken.pipe(Effect.provide(helper), Effect.flip)
          assert.strictEqual(error._tag, "CredentialHelperFailed", printed)
          assert.include(error.message, "no HTTP header can carry it", printed)
          assertQuotesNeither([error.message, JSON.stringify(error)].join("\n"), token)
        }
      }
    }))

  it.effect("the memory broker holds to the same rule; printable ASCII tokens pass everywhere", () =>
    Effect.gen(function*() {
      for (const token of bad) {
        const error = yield* getToken.pipe(Effect.provide(CredentialBrokerMemory([{ ...request, token }])), Effect.flip)
        assert.include(error.message, "no HTTP header can carry it")
      }
      const fine = "ghp_A-Z.a~z+0/9=_!#$%&*"
      const issued = yield* getToken.pipe(Effect.provide(CredentialBrokerMemory([{ ...request, token: fine }])))
      assert.isDefined(issued.token)
      const settings = yield* loadCloudSyncSettings.pipe(
        withEnv({ CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_WORKSPACE_ID: "ws", CODEX_CLOUD_TOKEN: ` ${fine}\n` })
      )
      assert.strictEqual(settings._tag, "Some")
    }))
})
