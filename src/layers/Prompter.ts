import { createInterface } from "node:readline"
import { Context, Duration, Effect, FiberRef, Layer, Ref } from "effect"
import { type ApprovalQuestion, currentPromptScreen, Prompter } from "../services/Prompter.js"

/**
 * Asks on the terminal: the question on stderr (stdout carries only the result, D-2), one line of
 * answer from stdin. Only when both are terminals; otherwise nobody can be asked. The line is read
 * in cooked mode, so Ctrl-C stays a SIGINT that cancels the run (D-8) and Ctrl-D means no answer.
 */
export const PrompterLive = Layer.sync(Prompter, () => {
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true
  const readAnswer = Effect.async<"granted" | "denied" | "unavailable">((resume) => {
    const lines = createInterface({ input: process.stdin, terminal: false })
    const onClose = () => resume(Effect.succeed("unavailable"))
    lines.once("line", (answer) => {
      lines.off("close", onClose)
      lines.close()
      resume(Effect.succeed(/^(y|yes)$/i.test(answer.trim()) ? "granted" : "denied"))
    })
    lines.once("close", onClose)
    return Effect.sync(() => lines.close())
  })
  const askHere = (question: ApprovalQuestion) =>
    Effect.sync(() =>
      process.stderr.write(
        `[Codex-Orchestrator] Stage '${question.title}' (${question.stageId}) needs approval to run:\n` +
          `    ${question.command}\n  Approve (key ${question.key})? [y/N] `
      )
    ).pipe(Effect.zipRight(readAnswer))
  return Prompter.of({
    ask: (question) =>
      !interactive
        ? Effect.succeed("unavailable" as const)
        // A HUD on the terminal steps aside while the question and the typed answer are on it.
        : Effect.flatMap(FiberRef.get(currentPromptScreen), (screen) =>
          screen === undefined
            ? askHere(question)
            : Effect.zipRight(screen.aside(question), askHere(question)).pipe(Effect.ensuring(screen.back)))
  })
})

/** Every question PrompterScripted was asked, in order. */
export class PrompterQuestions extends Context.Tag("orchestrator/PrompterQuestions")<
  PrompterQuestions,
  { readonly all: Effect.Effect<ReadonlyArray<ApprovalQuestion>> }
>() {}

/**
 * Scripted answers by approval key (a list answers successive questions, the last repeating);
 * a key without an answer is `unavailable`, as when no terminal is attached. `thinkTime` is how long
 * the scripted person takes to give each answer (on the Clock, so TestClock drives it).
 */
export const PrompterScripted = (
  answers: Readonly<Record<string, "granted" | "denied" | ReadonlyArray<"granted" | "denied">>> = {},
  thinkTime: Duration.DurationInput = Duration.zero
): Layer.Layer<Prompter | PrompterQuestions> =>
  Layer.effectContext(Effect.gen(function*() {
    const asked = yield* Ref.make<ReadonlyArray<ApprovalQuestion>>([])
    const ask = (question: ApprovalQuestion) =>
      Effect.gen(function*() {
        const before = yield* Ref.getAndUpdate(asked, (all) => [...all, question])
        const answer = answers[question.key]
        if (answer === undefined) return "unavailable" as const
        yield* Effect.sleep(thinkTime)
        if (typeof answer === "string") return answer
        const nth = before.filter((q) => q.key === question.key).length
        return answer[Math.min(nth, answer.length - 1)] ?? "unavailable"
      })
    return Context.make(Prompter, Prompter.of({ ask })).pipe(
      Context.add(PrompterQuestions, PrompterQuestions.of({ all: Ref.get(asked) }))
    )
  }))
