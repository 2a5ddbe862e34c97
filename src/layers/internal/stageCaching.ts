/**
 * The stage cache in a command stage's path (DECISIONS B-5). Before the attempts: look the stage up.
 * On a hit its outputs are restored and the executor is swapped for one that replays the recorded
 * output, so the log, `log` events, tails and summary come out as from a run of the stage, without
 * a process. On a miss the stage runs; if it succeeds it is stored. A damaged entry found while
 * replaying falls back to running the stage, with a warning.
 */
import { Chunk, Effect, Ref, Stream } from "effect"
import type { CliManifest } from "../../domain/Manifest.js"
import type { CommandStage } from "../../domain/Pipeline.js"
import { outputBytes } from "../../domain/RunLog.js"
import type { CacheOutcome } from "../../domain/StageCache.js"
import type { ExecutionEvent, ExecutionRequest, ExecutorService } from "../../services/Executor.js"
import type { ProcessExit } from "../../services/ProcessRunner.js"
import { CacheEntryDamaged, type ReplayChunk, type StageCache } from "../../services/StageCache.js"
import { exitOf } from "./stageAttempts.js"
import type { Finish } from "./stageOutcome.js"

/** An executor that plays back recorded output and exits 0; runs `fallback` instead if the recording turns out damaged. */
const replayExecutor = (
  chunks: Stream.Stream<ReplayChunk, CacheEntryDamaged>,
  fallback: ExecutorService,
  fellBack: Ref.Ref<boolean>
): ExecutorService => {
  const exit = { exitCode: 0, signal: null }
  const fallBack = (request: ExecutionRequest, error: CacheEntryDamaged) =>
    Effect.logWarning(`${request.stageId}: ${error.message}`).pipe(Effect.zipRight(Ref.set(fellBack, true)))
  const output = (chunk: ReplayChunk): ExecutionEvent => ({
    _tag: "Output",
    stream: chunk.stream,
    chunks: Chunk.of(outputBytes(chunk.text))
  })
  return {
    name: "cache",
    execute: (request) =>
      Stream.make<Array<ExecutionEvent>>({ _tag: "Started", pid: undefined }).pipe(
        Stream.concat(Stream.map(chunks, output)),
        Stream.concat(Stream.make<Array<ExecutionEvent>>({ _tag: "Exited", exit })),
        Stream.catchTag("CacheEntryDamaged", (error) => Stream.unwrap(Effect.as(fallBack(request, error), fallback.execute(request))))
      ),
    run: <E>(request: ExecutionRequest, onEvent: (event: ExecutionEvent) => Effect.Effect<void, E>) =>
      onEvent({ _tag: "Started", pid: undefined }).pipe(
        Effect.zipRight(Stream.runForEach(chunks, (chunk) => onEvent(output(chunk)))),
        Effect.zipRight(onEvent({ _tag: "Exited", exit })),
        Effect.as<ProcessExit>(exit),
        Effect.catchIf(
          (error): error is CacheEntryDamaged => error instanceof CacheEntryDamaged,
          (error) => Effect.zipRight(fallBack(request, error), fallback.run(request, onEvent))
        )
      )
  }
}

/**
 * What the stage's path does differently for the cache: the executor to run with, and what follows
 * the attempts (a success stored on a miss), which returns the entry's `cache`.
 */
export interface StageCaching {
  readonly executor: (executor: ExecutorService) => ExecutorService
  readonly after: (finish: Finish, attempts: number) => Effect.Effect<CacheOutcome | undefined>
}

const uncached: StageCaching = {
  executor: (executor) => executor,
  after: () => Effect.succeed(undefined)
}

/** Looks the stage up and says how its path goes; a stage without `cache`, or with the cache off, runs as always. */
export const stageCaching = (
  cache: StageCache["Type"],
  target: {
    readonly stage: CommandStage
    readonly manifest: Pick<CliManifest, "pipeline_id" | "task_id" | "run_id">
    readonly cwd: string
    readonly logPath: string
  }
) =>
  Effect.gen(function*() {
    const { stage } = target
    if (stage.cache === undefined) return uncached
    const found = yield* cache.lookup({
      pipelineId: target.manifest.pipeline_id,
      taskId: target.manifest.task_id,
      stageId: stage.id,
      command: stage.command,
      cwd: target.cwd,
      env: stage.env ?? {},
      spec: stage.cache
    })
    if (found._tag === "Off") return uncached
    const lookup = found
    const missOf = (key: string, changed: ReadonlyArray<string>): CacheOutcome => ({
      hit: false,
      key,
      from_run: null,
      ...(changed.length === 0 ? {} : { changed })
    })
    const storeOnSuccess = (finish: Finish, attempts: number) =>
      exitOf(finish).exitCode === 0
        ? cache.store(lookup.key, { runId: target.manifest.run_id, logPath: target.logPath, attempt: attempts })
        : Effect.void
    const runs = (outcome: CacheOutcome): StageCaching => ({
      executor: (executor) => executor,
      after: (finish, attempts) => Effect.as(storeOnSuccess(finish, attempts), outcome)
    })
    if (lookup._tag === "Miss") return runs(missOf(lookup.key.key, lookup.changed))
    const restored = yield* Effect.either(cache.restore(lookup))
    if (restored._tag === "Left") {
      yield* Effect.logWarning(`${stage.id}: ${restored.left.message}`)
      return runs(missOf(lookup.key.key, []))
    }
    const fellBack = yield* Ref.make(false)
    yield* Effect.logInfo(`${stage.id}: cache hit ${lookup.key.key.slice(0, 12)} (from run ${lookup.meta.from_run}); replaying its output`)
    return {
      executor: (executor) => replayExecutor(restored.right, executor, fellBack),
      after: (finish, attempts) =>
        Effect.flatMap(Ref.get(fellBack), (fell) =>
          fell
            ? Effect.as(storeOnSuccess(finish, attempts), missOf(lookup.key.key, []))
            : Effect.succeed<CacheOutcome>({ hit: true, key: lookup.key.key, from_run: lookup.meta.from_run }))
    } satisfies StageCaching
  })
