/**
 * Approvals as pure rules and the scripted Prompter (SPEC APR-1..3 as changed by DECISIONS D-14):
 * the key a grant is cached under, the decision taken without asking (cache, `auto`, `never`), what
 * an answer (or nobody answering) means, and PrompterScripted for the engine tests.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import {
  type ApprovalDecision,
  approvalKeyOf,
  ApprovalPolicy,
  decideWithoutAsking,
  decisionFromAnswer,
  defaultApprovalPolicy
} from "../src/domain/Approval.js"
import { decodeJsonFile, InvalidFile } from "../src/domain/FileErrors.js"
import { PipelineConfigFile } from "../src/domain/Pipeline.js"
import { PrompterQuestions, PrompterScripted } from "../src/layers/Prompter.js"
import { type ApprovalQuestion, Prompter } from "../src/services/Prompter.js"

const decided = (result: ApprovalDecision | "ask"): ApprovalDecision => {
  if (result === "ask") return assert.fail("expected a decision, got \"ask\"")
  return result
}

describe("ApprovalPolicy", () => {
  it("knows never, on-request and auto; on-request is the default (APR-1, D-14)", () => {
    assert.strictEqual(defaultApprovalPolicy, "on-request")
    for (const policy of ["never", "on-request", "auto"]) {
      assert.isTrue(Either.isRight(Schema.decodeUnknownEither(ApprovalPolicy)(policy)), policy)
    }
    for (const policy of ["bogus", "", "Auto", "on_request"]) {
      assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(ApprovalPolicy)(policy)), `${JSON.stringify(policy)} accepted`)
    }
  })
})

describe("approvalKeyOf", () => {
  it("defaults to <pipeline>:<stage>", () => {
    assert.strictEqual(approvalKeyOf("deploy", { id: "push" }), "deploy:push")
    assert.strictEqual(approvalKeyOf("deploy", { id: "push", approvalKey: undefined }), "deploy:push")
  })

  it("uses the stage's approvalKey when it has one, whatever the pipeline", () => {
    assert.strictEqual(approvalKeyOf("deploy", { id: "push", approvalKey: "prod-write" }), "prod-write")
    assert.strictEqual(approvalKeyOf("other", { id: "elsewhere", approvalKey: "prod-write" }), "prod-write")
  })
})

describe("decideWithoutAsking (APR-2 order with D-14)", () => {
  it("a cached grant wins over every policy, even never", () => {
    for (const policy of ["never", "on-request", "auto"] as const) {
      const decision = decided(decideWithoutAsking(policy, true))
      assert.strictEqual(decision.granted, true, policy)
      assert.strictEqual(decision.source, "cache", policy)
      assert.strictEqual(decision.reason, "granted earlier in this process", policy)
    }
  })

  it("auto grants without asking (source auto)", () => {
    const decision = decided(decideWithoutAsking("auto", false))
    assert.strictEqual(decision.granted, true)
    assert.strictEqual(decision.source, "auto")
    assert.strictEqual(decision.reason, "granted by the auto approval policy")
  })

  it("never refuses a new approval (source policy) and says how to get one", () => {
    const decision = decided(decideWithoutAsking("never", false))
    assert.strictEqual(decision.granted, false)
    assert.strictEqual(decision.source, "policy")
    assert.strictEqual(
      decision.reason,
      "approval required, but --approval-policy never forbids new approvals. Run with --approval-policy on-request (and answer the prompt) or auto."
    )
  })

  it("on-request without a cached grant asks", () => {
    assert.strictEqual(decideWithoutAsking("on-request", false), "ask")
  })
})

describe("decisionFromAnswer", () => {
  it("granted at the prompt", () => {
    assert.deepStrictEqual(decisionFromAnswer("granted"), { granted: true, source: "prompt", reason: "granted at the prompt" })
  })

  it("denied at the prompt", () => {
    const decision = decisionFromAnswer("denied")
    assert.strictEqual(decision.granted, false)
    assert.strictEqual(decision.source, "prompt")
    assert.strictEqual(decision.reason, "approval denied at the prompt")
  })

  it("nobody to ask is a refusal (source unavailable), never a silent grant", () => {
    const decision = decisionFromAnswer("unavailable")
    assert.strictEqual(decision.granted, false)
    assert.strictEqual(decision.source, "unavailable")
    assert.strictEqual(
      decision.reason,
      "approval required, but nobody can be asked (no terminal on stdin and stderr). Run it from a terminal, or use --approval-policy auto to grant approvals without asking."
    )
  })
})

describe("approvalRequired and approvalKey in codex.orchestrator.json", () => {
  const configPath = "/repo/codex.orchestrator.json"
  const config = (stage: Record<string, unknown>) =>
    JSON.stringify({ pipelines: [{ id: "p", title: "P", stages: [{ kind: "command", id: "s", title: "S", command: "x", ...stage }] }] })

  it.effect("are read from a command stage", () =>
    Effect.gen(function*() {
      const decoded = yield* decodeJsonFile(PipelineConfigFile, configPath)(config({ approvalRequired: true, approvalKey: "k" }))
      const stage = decoded.pipelines?.[0]?.stages[0]
      assert.isTrue(stage?.kind === "command" && stage.approvalRequired === true && stage.approvalKey === "k")
    }))

  it.effect("approvalRequired must be a boolean", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(decodeJsonFile(PipelineConfigFile, configPath)(config({ approvalRequired: "yes" })))
      assert.isTrue(error instanceof InvalidFile)
      assert.include(error.issues.join("\n"), "approvalRequired")
    }))
})

// ---------------------------------------------------------------------------------------------

const question = (key: string, stageId = "s"): ApprovalQuestion => ({ key, stageId, title: `Stage ${stageId}`, command: "echo x" })

const ask = (q: ApprovalQuestion) => Effect.flatMap(Prompter, (prompter) => prompter.ask(q))

describe("PrompterScripted", () => {
  it.effect("answers each key with its scripted answer, every time it is asked", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* ask(question("yes")), "granted")
      assert.strictEqual(yield* ask(question("no")), "denied")
      assert.strictEqual(yield* ask(question("yes")), "granted")
      assert.strictEqual(yield* ask(question("no")), "denied")
    }).pipe(Effect.provide(PrompterScripted({ yes: "granted", no: "denied" }))))

  it.effect("a list answers successive questions for its key, the last answer repeating", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* ask(question("k")), "denied")
      assert.strictEqual(yield* ask(question("other")), "granted", "another key does not advance the list")
      assert.strictEqual(yield* ask(question("k")), "granted")
      assert.strictEqual(yield* ask(question("k")), "denied")
      assert.strictEqual(yield* ask(question("k")), "denied")
      assert.strictEqual(yield* ask(question("k")), "denied")
    }).pipe(Effect.provide(PrompterScripted({ k: ["denied", "granted", "denied"], other: ["granted", "denied"] }))))

  it.effect("a key without an answer (or with an empty list) is unavailable, as without a terminal", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* ask(question("unknown")), "unavailable")
      assert.strictEqual(yield* ask(question("empty")), "unavailable")
      assert.strictEqual(yield* ask(question("yes")), "granted")
    }).pipe(Effect.provide(PrompterScripted({ yes: "granted", empty: [] }))))

  it.effect("with no answers at all, everything is unavailable", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* ask(question("a")), "unavailable")
      assert.strictEqual(yield* ask(question("b")), "unavailable")
    }).pipe(Effect.provide(PrompterScripted())))

  it.effect("PrompterQuestions lists every question asked, in order, answered or not", () =>
    Effect.gen(function*() {
      const questions = yield* PrompterQuestions
      assert.deepStrictEqual(yield* questions.all, [])
      const first = { key: "p:one", stageId: "one", title: "First", command: "make deploy" }
      const second = question("nobody", "two")
      yield* ask(first)
      yield* ask(second)
      yield* ask(first)
      assert.deepStrictEqual(yield* questions.all, [first, second, first])
    }).pipe(Effect.provide(PrompterScripted({ "p:one": "granted" }))))

  it.effect("each layer build starts with no questions asked", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* Effect.flatMap(PrompterQuestions, (q) => q.all), [])
    }).pipe(Effect.provide(PrompterScripted({ a: "granted" }))))
})
