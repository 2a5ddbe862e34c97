/**
 * `codex-orchestrator prompts install`: the Codex CLI prompt files of the seed README's "Codex CLI
 * prompts" section. The report (one line a file) is the result, on stdout.
 */
import { Command, Options } from "@effect/cli"
import { Path } from "@effect/platform"
import { Console, Effect, Option } from "effect"
import { codexPrompts, renderPromptOutcome } from "../domain/CodexPrompts.js"
import { codexSection, decodeSettings } from "../domain/Settings.js"
import { ProjectSetupLive } from "../layers/ProjectSetup.js"
import { ProjectSetup } from "../services/ProjectSetup.js"
import { UsageError } from "./usage.js"

const flags = {
  dir: Options.text("dir").pipe(
    Options.withDescription("The Codex prompts folder (default: $CODEX_HOME/prompts, else ~/.codex/prompts)"),
    Options.optional
  ),
  force: Options.boolean("force").pipe(Options.withDescription("Replace prompt files you changed too"))
}

/** `--dir`, else Codex's own folder: $CODEX_HOME/prompts, else $HOME/.codex/prompts. */
const promptsDir = (dir: Option.Option<string>) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    if (Option.isSome(dir)) {
      // An empty value (an unset variable in a script) would resolve to the working directory.
      if (dir.value.trim().length === 0) {
        return yield* new UsageError({
          reason: "--dir is empty; give the prompts folder (or leave --dir out: $CODEX_HOME/prompts, else ~/.codex/prompts)."
        })
      }
      return path.resolve(dir.value)
    }
    const { codexHome, home } = yield* decodeSettings(codexSection)
    if (codexHome !== undefined) return path.resolve(codexHome, "prompts")
    if (home !== undefined) return path.join(home, ".codex", "prompts")
    return yield* new UsageError({ reason: "Neither CODEX_HOME nor HOME is set; pass --dir <folder> (Codex reads ~/.codex/prompts)." })
  })

const install = Command.make("install", flags, (f) =>
  Effect.gen(function*() {
    const installed = yield* (yield* ProjectSetup).installPrompts(yield* promptsDir(f.dir), f.force)
    yield* Console.log(installed.map(({ outcome, path }) => renderPromptOutcome(outcome, path)).join("\n"))
  })).pipe(Command.withDescription(
  `Writes the Codex CLI prompts ${codexPrompts.map((p) => p.name).join(" and ")} (/prompts:diagnostics ` +
    "TASK=<task-id> MANIFEST=<path> [NOTES=<text>], /prompts:review-handoff TASK=<task-id> MANIFEST=<path> " +
    "NOTES=<goal + summary + risks>). Run it again at any time: a file equal to ours is `unchanged`, a missing one " +
    "`written`, one from an earlier version of this package `updated`; a file you changed is `kept` unless --force " +
    "(`overwritten`). Prints one line a file; exit 0. Example: codex-orchestrator prompts install --dir .codex-prompts"
))

/** `prompts`: the Codex CLI prompt files. */
export const prompts = Command.make("prompts").pipe(
  Command.withDescription("The Codex CLI prompts that run the orchestrator's diagnostics and review hand-off (see install --help)."),
  Command.withSubcommands([install]),
  Command.provide(ProjectSetupLive)
)
