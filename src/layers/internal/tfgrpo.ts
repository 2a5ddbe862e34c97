/**
 * TF-GRPO around a run (SPEC TFG-3, TFG-4, PER-4): the prompt packs a run is prepared with get the
 * task's top experiences of their domain, and a finished TF-GRPO run writes its own experience. Both
 * are advisory: a store that cannot be read or locked costs a warning, never the run or its manifest.
 */
import { Clock, Effect } from "effect"
import type { FileAccessError } from "../../domain/FileErrors.js"
import type { PromptPackEntry } from "../../domain/PromptPacks.js"
import { experienceIdOf, experienceOf, experiencePackOf, formatExperience, withExperiences } from "../../domain/Tfgrpo.js"
import type { ExperienceStore } from "../../services/ExperienceStore.js"
import type { RunFiles } from "../../services/RunStore.js"
import type { Entropy } from "../../services/Entropy.js"

/** `maxWords`: INS-5's word limit, checked when the settings were decoded. */
export const makeTfgrpoRuns = (store: ExperienceStore["Type"], maxWords: number, entropy: Entropy["Type"]) => {

  /** TFG-4: each pack with slots gets its domain's (and task's) top experiences, formatted; none, no field. */
  const attachExperiences = (
    taskId: string,
    packs: ReadonlyArray<PromptPackEntry>
  ): Effect.Effect<ReadonlyArray<PromptPackEntry>> =>
    Effect.forEach(packs, (pack) =>
      pack.experience_slots <= 0
        ? Effect.succeed(pack)
        : store.top({ taskId, domain: pack.domain, limit: pack.experience_slots }).pipe(
          Effect.map((top): PromptPackEntry =>
            top.length === 0 ? pack : { ...pack, experiences: top.map((experience) => formatExperience(experience, maxWords)) }
          ),
          Effect.catchAll((error) =>
            Effect.as(Effect.logWarning(`Prompt pack ${pack.id} gets no experiences: ${error.message}`), pack)
          )
        ))

  /**
   * TFG-3: when the run's manifest has a `tfgrpo` section and its first pack a domain and a stamp, one
   * experience goes to the task's experiences.jsonl and its id into `tfgrpo.experiences`. A lock
   * held elsewhere (or a failed write) is a warning: the section then says nothing was written.
   */
  const recordExperience = (
    files: RunFiles,
    packs: ReadonlyArray<PromptPackEntry>,
    stdoutLines: ReadonlyArray<string>
  ): Effect.Effect<void, FileAccessError> =>
    Effect.gen(function*() {
      const manifest = yield* files.manifest
      const section = manifest.tfgrpo
      const pack = experiencePackOf(packs)
      if (section === undefined || section === null || pack === undefined) return
      const nowMs = yield* Clock.currentTimeMillis
      const manifestPath = files.layout.relative(files.layout.manifest)
      const experience = experienceOf({
        id: experienceIdOf(nowMs, yield* entropy.hex(3)),
        runId: manifest.run_id,
        taskId: manifest.task_id,
        context: { epoch: section.epoch, groupId: section.group_id, groupSize: section.group_size },
        stdoutLines,
        maxWords,
        toolStats: section.tool_metrics.per_tool,
        pack,
        createdAt: new Date(nowMs).toISOString(),
        manifestPath
      })
      const written = yield* store.append(manifest.task_id, [experience]).pipe(
        Effect.as([experience.id]),
        Effect.catchAll((error) =>
          Effect.as(Effect.logWarning(`TF-GRPO experience not recorded for ${manifest.task_id}/${manifest.run_id}: ${error.message}`), [])
        )
      )
      yield* files.update((m) =>
        m.tfgrpo === undefined || m.tfgrpo === null ? m : { ...m, tfgrpo: withExperiences(m.tfgrpo, written, manifestPath) }
      )
    })

  return { attachExperiences, recordExperience }
}
