/**
 * `codex-orchestrator doctor [--format json]`: whether this repository and machine can run the
 * orchestrator. The report is the result, on stdout; a failed required check exits 1 after it.
 */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Layer } from "effect"
import { doctorPassed, renderDoctor } from "../domain/Doctor.js"
import { DoctorLive } from "../layers/Doctor.js"
import { Doctor } from "../services/Doctor.js"
import { gateLayer } from "./gateLayers.js"
import { gateSettings } from "./guard.js"
import { CheckFailed, printJson } from "./usage.js"

const format = Options.choice("format", ["text", "json"]).pipe(
  Options.withDescription("text: one line a check; json: {ok, checks: [{id, status, required, detail, fix}]}"),
  Options.withDefault("text")
)

/** `doctor`: every check, then exit 1 if a required one failed. */
export const doctor = Command.make("doctor", { format }, (flags) =>
  Effect.gen(function*() {
    const gate = yield* gateSettings
    const checks = yield* (yield* Doctor).check({ codex: gate.codexBin, clusterDatabaseUrl: gate.clusterDatabaseUrl })
    const ok = doctorPassed(checks)
    yield* flags.format === "json" ? printJson({ ok, checks }) : Console.log(renderDoctor(checks).join("\n"))
    if (!ok) return yield* new CheckFailed({ check: "doctor" })
  })).pipe(
  Command.withDescription(
    "Checks what a run needs, one line each with the fix: git (a repository with a commit, which the guards " +
      "compare), node (20 or newer on PATH), settings (every CODEX_*, TFGRPO_*, DESIGN_* ... variable a command reads " +
      "is valid; a bad one stops only the commands that use it), config (codex.orchestrator.json valid, its default pipeline and nested " +
      "pipelines exist), runs (the runs folder, or the folder that will hold it, is writable), codex (on PATH or " +
      "$CODEX_BIN, with a review command: only review needs it, so a warning), cluster (the database of " +
      "CODEX_CLUSTER_DATABASE_URL answers; skipped when unset). Exit 0 when every required check passed, else 1. " +
      "Example: codex-orchestrator doctor --format json"
  ),
  Command.provide(DoctorLive.pipe(Layer.provideMerge(gateLayer)))
)
