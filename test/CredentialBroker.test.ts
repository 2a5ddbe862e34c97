/**
 * The credential broker (SPEC SYNC-1): the environment, helper-command and memory interpreters.
 * The helper runs on scripted processes and its cache is driven by TestClock; every failure is
 * checked for the token it must not carry.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, ConfigProvider, DateTime, Effect, Either, Exit, Fiber, Layer, Option, Redacted, TestClock } from "effect"
import {
  CredentialBrokerEnv,
  CredentialBrokerHelper,
  CredentialBrokerLive,
  CredentialBrokerMemory,
  parseHelperOutput
} from "../src/layers/CredentialBroker.js"
import { OrchestratorConfigTest } from "../src/layers/OrchestratorConfig.js"
import { ProcessInvocations, ProcessRunnerMemory, type ScriptedProcess } from "../src/layers/ProcessRunner.js"
import { CredentialBroker, type CredentialError, type TokenRequest } from "../src/services/CredentialBroker.js"

const request: TokenRequest = { service: "codex-cloud", scope: "runs:write" }

const getToken = (req: TokenRequest = request) => Effect.flatMap(CredentialBroker, (broker) => broker.getToken(req))

const tokenOf = (req?: TokenRequest) => Effect.map(getToken(req), (issued) => Redacted.value(issued.token))

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

/** Everything a failure could show: its message, its string form, its JSON and the pretty cause. */
const renderings = (error: CredentialError) =>
  [error.message, String(error), JSON.stringify(error), Cause.pretty(Cause.fail(error))].join("\n")

const out = (data: string): ScriptedProcess => ({ output: [{ stream: "stdout", data }] })

const helperApp = (scripts: Record<string, ScriptedProcess | ReadonlyArray<ScriptedProcess>>, command = "cred-helper") =>
  CredentialBrokerHelper(command).pipe(
    Layer.provideMerge(Layer.merge(ProcessRunnerMemory(scripts), OrchestratorConfigTest("/repo")))
  )

const invocations = Effect.flatMap(ProcessInvocations, (p) => p.all)

describe("CredentialBrokerEnv", () => {
  it.effect("hands out CODEX_CLOUD_TOKEN as a Redacted value", () =>
    Effect.gen(function*() {
      const issued = yield* getToken()
      assert.strictEqual(Redacted.value(issued.token), "env-token-123")
      assert.notInclude(String(issued.token), "env-token-123")
      assert.isUndefined(issued.expiresAt)
    }).pipe(Effect.provide(CredentialBrokerEnv), withEnv({ CODEX_CLOUD_TOKEN: "env-token-123" })))

  it.effect("a token shorter than 6 characters is not handed out: it is no token, and it could not be kept out of what we write", () =>
    Effect.gen(function*() {
      const error = yield* getToken().pipe(Effect.provide(CredentialBrokerEnv), withEnv({ CODEX_CLOUD_TOKEN: "a" }), Effect.flip)
      assert.strictEqual(error._tag, "CredentialUnavailable")
      assert.include(error.message, "CODEX_CLOUD_TOKEN")
      assert.include(error.message, "at least 6 characters")
    }))

  it.effect("hands out the token without the blanks around it, which the server never sees and no scrubbing would find", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* tokenOf(), "env-token-123")
    }).pipe(Effect.provide(CredentialBrokerEnv), withEnv({ CODEX_CLOUD_TOKEN: "  env-token-123 \n" })))

  it.effect("without the variable (or with an empty one) fails with what to set", () =>
    Effect.gen(function*() {
      for (const env of [{}, { CODEX_CLOUD_TOKEN: "  " }]) {
        const error = yield* getToken().pipe(Effect.provide(CredentialBrokerEnv), withEnv(env), Effect.flip)
        assert.strictEqual(error._tag, "CredentialUnavailable")
        assert.include(error.message, "codex-cloud (runs:write)")
        assert.include(error.message, "CODEX_CLOUD_TOKEN")
      }
    }))
})

describe("CredentialBrokerHelper", () => {
  const inTenMinutes = JSON.stringify({ token: "helper-token-1", expiresAt: "1970-01-01T00:10:00.000Z" })

  it.effect("passes service, scope and vault path in the environment and runs in the repo root", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* tokenOf({ ...request, vaultPath: "vault/cloud" }), "helper-token-1")
      const [spec] = yield* invocations
      assert.deepStrictEqual(spec, {
        command: "cred-helper",
        cwd: "/repo",
        env: {
          CODEX_CREDENTIAL_SERVICE: "codex-cloud",
          CODEX_CREDENTIAL_SCOPE: "runs:write",
          CODEX_CREDENTIAL_VAULT_PATH: "vault/cloud"
        }
      })
    }).pipe(Effect.provide(helperApp({ "cred-helper": out(`${inTenMinutes}\n`) }))))

  it.effect("caches a token until 30 s before it expires, then runs the helper again", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* tokenOf(), "helper-token-1")
      assert.strictEqual(yield* tokenOf(), "helper-token-1")
      yield* TestClock.adjust("569 seconds") // 9:29
      assert.strictEqual(yield* tokenOf(), "helper-token-1")
      assert.strictEqual((yield* invocations).length, 1)
      yield* TestClock.adjust("1 second") // 9:30, the margin before 10:00
      assert.strictEqual(yield* tokenOf(), "helper-token-2")
      assert.strictEqual((yield* invocations).length, 2)
      const issued = yield* getToken()
      assert.strictEqual(DateTime.formatIso(issued.expiresAt ?? DateTime.unsafeMake(0)), "1970-01-01T00:20:00.000Z")
    }).pipe(Effect.provide(helperApp({
      "cred-helper": [
        out(inTenMinutes),
        // Unix seconds, as git's password_expiry_utc.
        out(JSON.stringify({ token: "helper-token-2", expiresAt: 1200 }))
      ]
    }))))

  it.effect("caches per service and scope", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* tokenOf(), "token-a")
      assert.strictEqual(yield* tokenOf({ service: "codex-cloud", scope: "runs:read" }), "token-b")
      assert.strictEqual(yield* tokenOf(), "token-a")
      assert.strictEqual((yield* invocations).length, 2)
    }).pipe(Effect.provide(helperApp({ "cred-helper": [out("token-a\n"), out("token-b\n")] }))))

  it.effect("keeps a token without expiresAt for the broker's lifetime", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* tokenOf(), "bare-token")
      yield* TestClock.adjust("2 days")
      assert.strictEqual(yield* tokenOf(), "bare-token")
      assert.strictEqual((yield* invocations).length, 1)
    }).pipe(Effect.provide(helperApp({ "cred-helper": [out("\n  bare-token  \nignored\n"), out("other\n")] }))))

  it.effect("a failing helper fails with its exit code and name, never its output, and is not cached", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(getToken())
      assert.strictEqual(error._tag, "CredentialHelperFailed")
      if (error._tag !== "CredentialHelperFailed") return
      assert.strictEqual(error.exitCode, 3)
      assert.strictEqual(error.helper, "cred-helper")
      assert.include(error.message, "cred-helper")
      assert.include(error.message, "exited with code 3")
      assert.notInclude(renderings(error), "leaked-token")
      assert.strictEqual(yield* tokenOf(), "good-token")
      assert.strictEqual((yield* invocations).length, 2)
    }).pipe(Effect.provide(helperApp({
      "cred-helper": [
        {
          output: [{ stream: "stdout", data: "leaked-token\n" }, { stream: "stderr", data: "oops leaked-token\n" }],
          exitCode: 3
        },
        out("good-token\n")
      ]
    }))))

  // Found by a fault hunt: a helper script without its execute bit (or misspelt) failed with "exited
  // with code 126" (127) alone; the shell's reason went to its stderr, which is never shown.
  it.effect("a helper the shell cannot run (126) or cannot find (127) says which, and what to check", () =>
    Effect.gen(function*() {
      const cases = [
        { code: 126, says: ["exited with code 126", "could not run it", "chmod +x"] },
        { code: 127, says: ["exited with code 127", "did not find it", "CODEX_CLOUD_CREDENTIAL_HELPER", "PATH"] }
      ]
      for (const { code, says } of cases) {
        const error = yield* getToken().pipe(Effect.provide(helperApp({ "cred-helper": { exitCode: code } })), Effect.flip)
        for (const text of says) assert.include(error.message, text, error.message)
      }
    }))

  it.effect("a helper that never finishes is stopped after 30 s with a failure that says so, and is not cached", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.flip(getToken()))
      yield* TestClock.adjust("29999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still waiting before the timeout")
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "CredentialHelperFailed")
      assert.include(error.message, "cred-helper")
      assert.include(error.message, "did not finish within 30s")
      assert.strictEqual(yield* tokenOf(), "next-token")
    }).pipe(Effect.provide(helperApp({ "cred-helper": [{ duration: "1 hour" }, out("next-token\n")] }))))

  it.effect("bad output, a signal, or no shell are failures that quote nothing", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [ScriptedProcess, string]> = [
        [out(JSON.stringify({ token: 12345678, expiresAt: "soon" })), "printed JSON that is not"],
        [out(JSON.stringify({ token: "json-token", expiresAt: "not a date" })), "printed JSON that is not"],
        [out("{\"token\": \"half-json-token\""), "printed JSON that is not"],
        [out("\n \n"), "printed no token"],
        [out("abc\n"), "printed a token shorter than 6 characters"],
        [out(JSON.stringify({ token: "abc" })), "printed a token shorter than 6 characters"],
        [{ output: [{ stream: "stdout", data: "signal-token\n" }], signal: "SIGKILL" }, "killed by SIGKILL"],
        [{ spawnError: "no shell" }, "could not start (no shell)"]
      ]
      for (const [script, reason] of cases) {
        const error = yield* getToken().pipe(Effect.provide(helperApp({ "cred-helper": script })), Effect.flip)
        assert.strictEqual(error._tag, "CredentialHelperFailed")
        assert.include(error.message, reason)
        for (const secret of ["12345678", "json-token", "half-json-token", "signal-token"]) {
          assert.notInclude(renderings(error), secret)
        }
      }
    }))
})

describe("parseHelperOutput", () => {
  it("reads JSON with an ISO date or Unix seconds, or a bare first line", () => {
    const json = parseHelperOutput("{\"token\":\"token-1\",\"expiresAt\":\"2030-01-01T00:00:00Z\"}")
    assert.isTrue(Either.isRight(json))
    if (Either.isRight(json)) {
      assert.strictEqual(Redacted.value(json.right.token), "token-1")
      assert.strictEqual(DateTime.formatIso(json.right.expiresAt ?? DateTime.unsafeMake(0)), "2030-01-01T00:00:00.000Z")
    }
    const bare = parseHelperOutput("token-2\n")
    assert.isTrue(Either.isRight(bare) && Redacted.value(bare.right.token) === "token-2" && bare.right.expiresAt === undefined)
    assert.deepStrictEqual(parseHelperOutput("{\"token\":\"\"}"), Either.left("it printed an empty token"))
  })
})

describe("CredentialBrokerLive", () => {
  const live = CredentialBrokerLive.pipe(
    Layer.provide(Layer.merge(ProcessRunnerMemory({ "my-helper": out("from-helper\n") }), OrchestratorConfigTest("/repo")))
  )

  it.effect("uses the helper when CODEX_CLOUD_CREDENTIAL_HELPER is set, else the environment", () =>
    Effect.gen(function*() {
      const both = { CODEX_CLOUD_TOKEN: "from-env", CODEX_CLOUD_CREDENTIAL_HELPER: "my-helper" }
      assert.strictEqual(yield* tokenOf().pipe(Effect.provide(live), withEnv(both)), "from-helper")
      assert.strictEqual(yield* tokenOf().pipe(Effect.provide(live), withEnv({ CODEX_CLOUD_TOKEN: "from-env" })), "from-env")
      const none = yield* tokenOf().pipe(Effect.provide(live), withEnv({}), Effect.exit)
      assert.isTrue(Exit.isFailure(none))
    }))
})

describe("CredentialBrokerMemory", () => {
  it.effect("hands out the given tokens and nothing else", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* tokenOf(), "mem-token")
      const error = yield* Effect.flip(getToken({ service: "other", scope: "x" }))
      assert.strictEqual(error._tag, "CredentialUnavailable")
    }).pipe(Effect.provide(CredentialBrokerMemory([{ ...request, token: "mem-token" }]))))

  it.effect("honours the environment's rules: a token is trimmed, and one shorter than 6 characters is not handed out", () =>
    Effect.gen(function*() {
      const memory = (token: string) => CredentialBrokerMemory([{ ...request, token }])
      assert.strictEqual(yield* tokenOf().pipe(Effect.provide(memory("  mem-token\n"))), "mem-token")
      for (const token of ["", "   ", "t0ken", " abc  "]) {
        const error = yield* getToken().pipe(Effect.provide(memory(token)), Effect.flip)
        assert.strictEqual(error._tag, "CredentialUnavailable", JSON.stringify(token))
        assert.strictEqual(error.message.startsWith("No credential available for codex-cloud (runs:write) from the memory. "), true, error.message)
        assert.include(error.message, "at least 6 characters", JSON.stringify(token))
        if (token.trim().length > 0) assert.notInclude(renderings(error), token.trim())
      }
    }))
})
