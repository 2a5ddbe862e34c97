/**
 * A runner's hold on its `--workspaces` folder (issue 18). Two runners on one folder would share its
 * clones and worktrees and corrupt each other's git state, so a runner holds the folder for its
 * lifetime: `.runner.json` in it, created exclusively, names the holder (pid, host, the process's
 * start time, listen address). A second runner there is refused while the holder lives; a hold whose
 * holder is gone (killed, or its pid now another process's: another start time, `Host.startTimeOf`)
 * is taken over, with a warning. The hold is released when the runner stops (its scope closes).
 *
 * Taking a stale hold over has exactly one winner, as a resume's takeover of a run (D-7): a claim
 * file named after the stale record, created exclusively; a claim whose claimant died is passed by
 * claiming after it. The winner replaces the record only if it is still the stale one it judged.
 */
import { Path } from "@effect/platform"
import { Clock, Duration, Effect, Option, Schema } from "effect"
import type { FileAccessError } from "../../domain/FileErrors.js"
import { iso } from "../../domain/Time.js"
import { Files } from "../../services/Files.js"
import { Host } from "../../services/Host.js"
import { judgeLiveness } from "../internal/holderLiveness.js"
import { thisProcess } from "../internal/processRecord.js"
import { sha256Hex } from "../internal/sha256.js"

/** What `.runner.json` says about the runner holding the folder. */
export const WorkspacesHolder = Schema.Struct({
  pid: Schema.Int,
  host: Schema.String,
  /** `Host.startTimeOf(pid)` when the hold was taken; absent where the OS does not tell. */
  started: Schema.optional(Schema.String),
  listen: Schema.String,
  since: Schema.String
})
export type WorkspacesHolder = typeof WorkspacesHolder.Type

const decodeHolder = (text: string | undefined): WorkspacesHolder | undefined => {
  if (text === undefined) return undefined
  try {
    return Option.getOrUndefined(Schema.decodeUnknownOption(WorkspacesHolder)(JSON.parse(text)))
  } catch {
    return undefined
  }
}

/** A live runner holds the folder: bad input (exit 2), said in one line with the fix. */
export class WorkspacesHeld extends Schema.TaggedError<WorkspacesHeld>()("WorkspacesHeld", {
  folder: Schema.String,
  pid: Schema.Int,
  host: Schema.String,
  listen: Schema.String,
  /** The holder is on another machine (shared storage), so whether it still runs is not known here. */
  elsewhere: Schema.optional(Schema.Boolean)
}) {
  override get message() {
    return `--workspaces ${this.folder} is held by the runner ${this.listen} (pid ${this.pid} on ${this.host}); ` +
      "two runners on one folder would corrupt each other's clones and worktrees: give this runner --workspaces <another folder>." +
      (this.elsewhere === true
        ? ` A runner on another machine cannot be checked from here: if it is gone for good, remove ${this.folder}/${holdFileName}.`
        : "")
  }
}

/** The file holding the folder. */
export const holdFileName = ".runner.json"

/** A hold file still empty or unreadable this long after its last change was left by a runner that died writing it. */
export const writingGraceMs = 10_000

/** What is known about the record found in the hold file. */
export interface HolderFacts {
  /** The record; undefined when the file is empty or does not decode. */
  readonly holder: WorkspacesHolder | undefined
  /** Since the file's last change. */
  readonly ageMs: number
  /** This machine. */
  readonly host: string
  /** Whether the holder's pid is alive on this machine. */
  readonly alive: boolean
  /** The start time of the process that has the holder's pid now, if any and known. */
  readonly startTime: string | undefined
}

export type HoldVerdict =
  | { readonly _tag: "Held" }
  | { readonly _tag: "Writing" }
  | { readonly _tag: "Stale"; readonly why: string }

/**
 * Whether the record still holds the folder. A holder on another machine cannot be checked, so it
 * holds; one here holds while its pid is alive with the start time it recorded (where the OS tells
 * none, alive is all there is to go on).
 */
export const judgeHolder = (facts: HolderFacts): HoldVerdict => {
  const { holder } = facts
  if (holder === undefined) {
    return facts.ageMs < writingGraceMs ? { _tag: "Writing" } : { _tag: "Stale", why: "its record is unreadable" }
  }
  switch (judgeLiveness(holder, facts)) {
    case "gone":
      return { _tag: "Stale", why: `its runner ${holder.listen} (pid ${holder.pid}) is gone` }
    case "reused":
      return { _tag: "Stale", why: `its runner ${holder.listen} is gone (pid ${holder.pid} is another process now)` }
    default:
      return { _tag: "Held" }
  }
}

/** Attempts before giving up on a folder whose hold keeps changing (each waits 200 ms at most). */
const maxSteps = 50

const pause = Effect.sleep(Duration.millis(200))

/**
 * Holds `root` for the scope: fails with WorkspacesHeld while a live runner holds it; takes a stale
 * hold over with a warning; releases it when the scope closes (if it is still this runner's).
 */
export const holdWorkspaces = (options: { readonly root: string; readonly listen: string }) =>
  Effect.gen(function*() {
    const files = yield* Files
    const host = yield* Host
    const path = yield* Path.Path
    const root = path.resolve(options.root)
    const file = path.join(root, holdFileName)
    yield* files.makeDirectory(root)
    const mine = {
      ...(yield* thisProcess(host)),
      listen: options.listen,
      since: iso(yield* Clock.currentTimeMillis)
    }
    const text = `${JSON.stringify(mine)}\n`

    /** The record at `at` and what this machine knows of its holder. */
    const factsOf = (found: string, at: string) =>
      Effect.gen(function*() {
        const holder = decodeHolder(found)
        const modified = yield* files.modifiedAt(at)
        const now = yield* Clock.currentTimeMillis
        const local = holder !== undefined && holder.host === host.hostname
        return {
          holder,
          ageMs: modified === undefined ? 0 : now - modified,
          host: host.hostname,
          alive: local ? yield* host.isAlive(holder.pid) : true,
          startTime: local ? yield* host.startTimeOf(holder.pid) : undefined
        }
      })

    /**
     * The claim on the stale record `found`: true when this runner won it. A claim's name is a hash
     * of what it claims (the record and when it was written), one name per stale record.
     */
    const claim = (found: string, modified: number | undefined) =>
      Effect.gen(function*() {
        let at = `${file}.takeover-${(yield* sha256Hex(`${modified ?? 0}\n${found}`)).slice(0, 16)}`
        const chain: Array<string> = []
        for (let step = 0; step < maxSteps; step++) {
          chain.push(at)
          if (yield* files.createExclusive(at, text)) return chain
          const claimant = yield* files.readText(at)
          if (claimant === undefined) continue
          if (judgeHolder(yield* factsOf(claimant, at))._tag !== "Stale") return undefined
          at = `${at}~${(yield* sha256Hex(claimant)).slice(0, 16)}`
        }
        return undefined
      })

    /** Takes the stale record `found` over: true when the hold is this runner's now. */
    const takeOver = (found: string, why: string) =>
      Effect.gen(function*() {
        const chain = yield* claim(found, yield* files.modifiedAt(file))
        if (chain === undefined) return false
        // While the claim is held nobody else replaces the stale record, which is checked once more.
        const taken = (yield* files.readText(file)) === found &&
          (yield* Effect.zipRight(files.remove(file), files.createExclusive(file, text)))
        yield* Effect.forEach(chain, (at) => files.remove(at), { discard: true })
        if (taken) yield* Effect.logWarning(`Taking over ${root} from a previous runner: ${why}`)
        return taken
      })

    const acquire: Effect.Effect<void, WorkspacesHeld | FileAccessError> = Effect.gen(function*() {
      // A record being written is waited for without counting: the grace bounds that wait.
      for (let step = 0; step < maxSteps;) {
        if (yield* files.createExclusive(file, text)) return
        const found = yield* files.readText(file)
        if (found === undefined) continue
        const facts = yield* factsOf(found, file)
        const verdict = judgeHolder(facts)
        if (verdict._tag === "Held" && facts.holder !== undefined) {
          const { host: holderHost, listen, pid } = facts.holder
          return yield* new WorkspacesHeld({ folder: root, pid, host: holderHost, listen, elsewhere: holderHost !== facts.host })
        }
        if (verdict._tag === "Stale" && (yield* takeOver(found, verdict.why))) return
        if (verdict._tag !== "Writing") step++
        yield* pause
      }
      const last = decodeHolder(yield* files.readText(file))
      return yield* new WorkspacesHeld({ folder: root, pid: last?.pid ?? 0, host: last?.host ?? "unknown", listen: last?.listen ?? "unknown" })
    })

    // Released only while it is still this runner's record.
    const release = Effect.flatMap(files.readText(file), (now) => now === text ? files.remove(file) : Effect.void).pipe(Effect.ignore)
    yield* Effect.acquireRelease(acquire, () => release)
    return file
  })
