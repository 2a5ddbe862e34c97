/**
 * `--interactive` / `--ui` on start and resume (SPEC CLI-8, HUD-1, DECISIONS B-6): the Ink HUD while
 * the run runs, fed by the EventBus. Shown only where it can be drawn and read: stdout and stderr
 * terminals, TERM not dumb, not under CI, not with `--format json`. Otherwise one stderr line says
 * why, and the run goes on as without the flag.
 */
import { Options } from "@effect/cli"
import { Config, Console, Effect, FiberRef, HashSet, Logger, LogLevel, Option } from "effect"
import { mount } from "../hud/Hud.js"
import type { EventBus } from "../services/EventBus.js"
import { currentPromptScreen } from "../services/Prompter.js"

export const interactive = Options.all({
  on: Options.boolean("interactive").pipe(
    Options.withAlias("ui"),
    Options.withDescription(
      "Show the live HUD while the run runs: a row per stage (status, time, attempts, summary), the output of the " +
        "running stages, retries, approvals, privacy redactions. Only on a terminal (stdout and stderr), TERM not dumb, " +
        "CI unset, never with --format json; otherwise one stderr line says why. Replaces --follow. The summary " +
        "is printed after it"
    )
  ),
  off: Options.boolean("no-interactive").pipe(Options.withDescription("Never show the HUD (the default)"))
})

/** What decides whether the HUD is drawn. */
export interface HudGateInput {
  readonly requested: boolean
  readonly flaggedOff: boolean
  readonly format: "text" | "json"
  readonly stdoutTty: boolean
  readonly stderrTty: boolean
  readonly term: string | undefined
  readonly ci: string | undefined
}

/** CI counts when set to anything but empty, `0` or `false`. */
const ciSet = (ci: string | undefined) => ci !== undefined && !["", "0", "false"].includes(ci.trim().toLowerCase())

/**
 * CLI-8: `show`, or why not. `quiet` refusals (not asked, or `--no-interactive`) print nothing; the
 * others are the reason the stderr line gives.
 */
export const hudGate = (input: HudGateInput): { readonly show: true } | { readonly show: false; readonly reason: string; readonly quiet: boolean } => {
  if (!input.requested) return { show: false, reason: "not requested", quiet: true }
  if (input.flaggedOff) return { show: false, reason: "flagged off", quiet: true }
  if (input.format === "json") return { show: false, reason: "json format requested", quiet: false }
  if (!input.stdoutTty || !input.stderrTty) return { show: false, reason: "not a terminal (stdout and stderr must both be one)", quiet: false }
  if (input.term?.trim().toLowerCase() === "dumb") return { show: false, reason: "TERM=dumb", quiet: false }
  if (ciSet(input.ci)) return { show: false, reason: "CI detected", quiet: false }
  return { show: true }
}

const optionalEnv = (name: string) => Config.option(Config.string(name)).pipe(Effect.map(Option.getOrUndefined), Effect.orElseSucceed(() => undefined))

/** The gate on this process's terminal and environment; a refusal that is not quiet is said on stderr. */
const decide = (flags: { readonly on: boolean; readonly off: boolean }, format: "text" | "json") =>
  Effect.gen(function*() {
    const gate = hudGate({
      requested: flags.on,
      flaggedOff: flags.off,
      format,
      stdoutTty: process.stdout.isTTY === true,
      stderrTty: process.stderr.isTTY === true,
      term: yield* optionalEnv("TERM"),
      ci: yield* optionalEnv("CI")
    })
    if (!gate.show && !gate.quiet) yield* Console.error(`HUD off: ${gate.reason}`)
    return gate.show
  })

const levelOf = (level: LogLevel.LogLevel) =>
  LogLevel.greaterThanEqual(level, LogLevel.Error) ? "error" as const : LogLevel.greaterThanEqual(level, LogLevel.Warning) ? "warning" as const : "info" as const

/**
 * Runs `run` under the HUD when the gate allows, else as it is (with `otherwise`, the `--follow`
 * printer for instance). While the HUD is drawn the run's log lines go into it rather than over it;
 * its warnings and errors are printed again on stderr after it is taken down, so none is lost.
 */
export const withHud = <A, E, R>(
  flags: { readonly on: boolean; readonly off: boolean },
  format: "text" | "json",
  run: Effect.Effect<A, E, R>,
  otherwise: (run: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R | EventBus>
): Effect.Effect<A, E, R | EventBus> =>
  Effect.flatMap(decide(flags, format), (show) => {
    if (!show) return otherwise(run)
    const warnings: Array<string> = []
    return Effect.scoped(Effect.gen(function*() {
      const hud = yield* mount()
      const logger = Logger.make(({ logLevel, message }) => {
        const text = (Array.isArray(message) ? message.map(String) : [String(message)]).join(" ")
        const level = levelOf(logLevel)
        if (level !== "info") warnings.push(`[Codex-Orchestrator] ${level}: ${text}`)
        hud.note({ level, text })
      })
      const screen = {
        aside: (question: { readonly stageId: string; readonly title: string; readonly command: string }) =>
          hud.stepAside({ stageId: question.stageId, title: question.title, command: question.command }),
        back: hud.comeBack
      }
      return yield* run.pipe(
        Effect.locally(FiberRef.currentLoggers, HashSet.make(logger)),
        Effect.locally(currentPromptScreen, screen)
      )
    })).pipe(
      // After the scope closed: the HUD is down, its last frame stays above these lines.
      Effect.ensuring(Effect.suspend(() => Effect.forEach(warnings, (line) => Console.error(line), { discard: true })))
    )
  })
