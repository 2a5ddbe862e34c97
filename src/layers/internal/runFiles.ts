/**
 * The part of a run store both interpreters share: the manifest held in memory and written one
 * write at a time (heartbeat and stage writes never interleave; a write takes every change made by
 * then), coalescing of non-forced writes (SPEC RUN-8), and
 * the bootstrap of LAY-2/LAY-3. The interpreters differ only in the Files service underneath.
 */
import { Clock, Duration, Effect, Option, Ref } from "effect"
import type { FileAccessError } from "../../domain/FileErrors.js"
import { CliManifest, encodeManifest, type RunOwner } from "../../domain/Manifest.js"
import { type CommandEntry, isTerminal } from "../../domain/ManifestStatus.js"
import { type PrivacyMode, redact } from "../../domain/Privacy.js"
import type { RunLayout } from "../../domain/RunLayout.js"
import { encodeLogLine } from "../../domain/RunLog.js"
import { iso, isoNow } from "../../domain/Time.js"
import { makeChunkLineEncoder } from "./chunkLineEncoder.js"
import { decodeOwner, type FileBackend, readManifestAs, readOwner } from "./runReading.js"
import type { ByteWriter } from "../../services/Files.js"
import { type RunFiles, RunStore, type StageLogWriter } from "../../services/RunStore.js"

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

/** Atomic, not fsynced (D-6): records a resume does not depend on after a machine crash. */
const notDurable = { durable: false } as const

const isSettled = (status: CommandEntry["status"]) => status !== "pending" && status !== "running"

/**
 * D-6: whether `next` records what a resume depends on after a machine crash, compared with what is
 * on disk: the run reaching its final state, or a stage reaching its final state. Everything else
 * (a stage starting, attempts, heartbeats, approvals, metrics flags) is progress: atomic, not fsynced.
 */
export const settles = (previous: CliManifest, next: CliManifest) =>
  (isTerminal(next.status) && next.status !== previous.status) ||
  next.commands.some((entry, i) => isSettled(entry.status) && entry.status !== previous.commands[i]?.status)

/** LAY-2: folders first, then the queued manifest, the token and the first heartbeat. */
export const createRunFiles = (
  backend: FileBackend,
  layout: RunLayout,
  initial: CliManifest,
  coalesceWindow: Duration.Duration
): Effect.Effect<RunFiles, FileAccessError> =>
  Effect.gen(function*() {
    yield* backend.makeDirectory(layout.commandsDir)
    yield* backend.makeDirectory(layout.errorsDir)
    // D-6: the run's creation is fsynced (the manifest and the token a resume checks); the rest of
    // the bootstrap is atomic only.
    yield* backend.writeAtomic(layout.manifest, encodeManifest(initial))
    yield* backend.writeAtomic(layout.resumeToken, `${initial.resume_token}\n`)
    yield* backend.writeAtomic(layout.heartbeat, `${initial.heartbeat_at}\n`, notDurable)
    yield* writeCompatibilityPointers(backend, layout, initial)
    return yield* runFilesOf(backend, layout, initial, coalesceWindow)
  })

/** Reads and decodes a run's whole manifest; a missing file is RunNotFound, a damaged one InvalidFile. */
export const readManifest = (backend: FileBackend, layout: RunLayout) => readManifestAs(backend, layout, CliManifest)

/** Takes over an existing run: the same machinery as a new one, starting from the manifest on disk. */
export const openRunFiles = (backend: FileBackend, layout: RunLayout, coalesceWindow: Duration.Duration) =>
  Effect.flatMap(readManifest(backend, layout), (manifest) => runFilesOf(backend, layout, manifest, coalesceWindow))

export const readResumeToken = (backend: FileBackend, layout: RunLayout) =>
  Effect.map(backend.readText(layout.resumeToken), (text) => text?.trim())

/** A run's manifest as this process holds it, and as it last wrote it. */
interface HeldManifest {
  readonly manifest: CliManifest
  readonly written: CliManifest
  readonly lastWriteMs: number
  /** Changes not yet written: coalesced (D-6), or a write that failed. */
  readonly dirty: boolean
  /** How many changes were made, and how many of them the file holds (a change's number says if a write took it). */
  readonly changes: number
  readonly writtenChanges: number
}

const runFilesOf = (
  backend: FileBackend,
  layout: RunLayout,
  initial: CliManifest,
  coalesceWindow: Duration.Duration
): Effect.Effect<RunFiles> =>
  Effect.gen(function*() {
    const minGap = Duration.toMillis(Duration.max(coalesceWindow, Duration.seconds(1)))
    const startedMs = yield* Clock.currentTimeMillis
    // `written` is the manifest as last written: a write is fsynced only when it settles something
    // against it (D-6).
    const state = yield* Ref.make<HeldManifest>({
      manifest: initial,
      written: initial,
      lastWriteMs: startedMs,
      dirty: false,
      changes: 0,
      writtenChanges: 0
    })
    // One write at a time (heartbeat and stage writes never interleave), and changes never wait for
    // one: a change is made in memory at once, and the next write takes every change made by then.
    // So the eight stages of a graph starting together cost two writes, not eight one after another
    // (a write is 10-50 ms on a loaded machine, and the last stage's process waited for all of them).
    const writing = yield* Effect.makeSemaphore(1)

    /** Writes what is held unless a write since took change number `upTo` (0: whatever is pending). */
    const writeThrough = (upTo: number) =>
      writing.withPermits(1)(Effect.gen(function*() {
        const current = yield* Ref.get(state)
        if (upTo > 0 ? current.writtenChanges >= upTo : !current.dirty) return
        const now = yield* Clock.currentTimeMillis
        const written: CliManifest = { ...current.manifest, updated_at: iso(now) }
        yield* backend.writeAtomic(layout.manifest, encodeManifest(written), settles(current.written, written) ? undefined : notDurable)
        // Changes made while it was written stay pending, for the next write.
        yield* Ref.update(state, (held) => {
          const caughtUp = held.changes === current.changes
          return { ...held, manifest: caughtUp ? written : held.manifest, written, lastWriteMs: now, dirty: !caughtUp, writtenChanges: current.changes }
        })
      }))

    // A write that fails (a full disk) still changes what the run holds: the run's outcome is
    // reported as it is, not as the disk last had it (issue 16 item 21), and a later write retries.
    const update: RunFiles["update"] = (change, options) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const [changed, number, due] = yield* Ref.modify(state, (current) => {
          const next = change(current.manifest)
          const due = options?.force === true || now - current.lastWriteMs >= minGap
          return [[next, current.changes + 1, due] as const, { ...current, manifest: next, dirty: true, changes: current.changes + 1 }]
        })
        if (!due) return changed
        yield* writeThrough(number)
        // As written: the write that took this change stamped it.
        return { ...changed, updated_at: iso((yield* Ref.get(state)).lastWriteMs) }
      })

    const flush = writeThrough(0)

    return {
      layout,
      manifest: Effect.map(Ref.get(state), (s) => s.manifest),
      update,
      flush,
      writeHeartbeatFile: (timestamp) => backend.writeAtomic(layout.heartbeat, `${timestamp}\n`, notDurable),
      writeOwner: (owner) => backend.writeAtomic(layout.owner, json(owner), notDurable),
      appendPrivacyDecisions: (decisions) =>
        decisions.length === 0 ? Effect.void : backend.append(layout.privacyLog, decisions.map((d) => `${JSON.stringify(d)}\n`).join("")),
      appendRunnerLog: (...events) => backend.append(layout.runnerLog, events.map(encodeLogLine).join("")),
      openStageLog: (path) =>
        Effect.map(backend.openAppend(path), (writer): StageLogWriter => {
          const chunks = makeChunkLineEncoder()
          const encoder = new TextEncoder()
          return {
            append: (...events) => writer.write(encoder.encode(events.map(encodeLogLine).join(""))),
            appendChunk: (meta, bytes, final) => writer.write(chunks.encode(meta, bytes, final)),
            carrying: chunks.carrying
          }
        }),
      writeErrorFile: (path, content) => backend.writeAtomic(path, json(content)),
      writeRunSummary: (summary) => backend.writeAtomic(layout.runSummary, json(summary)),
      writePrompt: (prompt) => backend.writeAtomic(layout.prompt, prompt.endsWith("\n") ? prompt : `${prompt}\n`),
      restoreFolder: Effect.flatMap(backend.info(layout.runDir), (info) =>
        info !== undefined
          ? Effect.succeed(false)
          : Effect.as(Effect.zipRight(backend.makeDirectory(layout.commandsDir), backend.makeDirectory(layout.errorsDir)), true))
    } satisfies RunFiles
  })

/**
 * LAY-3: `<runs>/<task>/mcp/<run>/manifest.json` redirects to the run folder, and
 * `<runs>/local-mcp/<run>/manifest.json` is a relative symlink to the manifest (a JSON stub where
 * symlinks are refused).
 */
const writeCompatibilityPointers = (backend: FileBackend, layout: RunLayout, manifest: CliManifest) =>
  Effect.gen(function*() {
    const createdAt = yield* isoNow
    yield* backend.makeDirectory(layout.compatDir)
    yield* backend.writeAtomic(
      layout.compatManifest,
      json({
        redirect_to: layout.relative(layout.runDir),
        manifest: layout.relative(layout.manifest),
        created_at: createdAt,
        note: "Generated by codex CLI for backward compatibility."
      }),
      notDurable
    )
    yield* backend.makeDirectory(layout.localMcpDir)
    yield* backend.symlink(`../../${manifest.task_id}/cli/${manifest.run_id}/manifest.json`, layout.localMcpManifest).pipe(
      Effect.orElse(() =>
        backend.writeAtomic(
          layout.localMcpManifest,
          json({ redirect_to: layout.relative(layout.runDir), manifest: layout.relative(layout.manifest) }),
          notDurable
        )
      )
    )
  })

/**
 * D-13 enforce mode: every text and byte we write passes through the privacy rules first, so no
 * file of a run holds a secret (manifests, logs, error files, summaries). Stage output reaches here
 * whole-line (the command stage holds back unfinished lines), so a secret is never split.
 */
export const redactingBackend = (backend: FileBackend): FileBackend => {
  const encoder = new TextEncoder()
  return {
    ...backend,
    writeAtomic: (path, text, options) => backend.writeAtomic(path, redact(text).text, options),
    append: (path, text) => backend.append(path, redact(text).text),
    openAppend: (path) =>
      Effect.map(backend.openAppend(path), (writer): ByteWriter => {
        const decoder = new TextDecoder()
        return { write: (bytes) => writer.write(encoder.encode(redact(decoder.decode(bytes)).text)) }
      })
  }
}

/** The files as a writer of ours sees them in this privacy mode: redacting in `enforce` (D-13). */
export const filesForPrivacy = (files: FileBackend, privacy: PrivacyMode): FileBackend =>
  privacy === "enforce" ? redactingBackend(files) : files

/** A RunStore on a backend: the Live and Memory interpreters differ only in their backend. */
export const runStoreOf = (rawBackend: FileBackend, coalesceWindow: Duration.Duration, privacy: PrivacyMode = "shadow") => {
  const backend = filesForPrivacy(rawBackend, privacy)
  return RunStore.of({
    create: (layout, manifest) => createRunFiles(backend, layout, manifest, coalesceWindow),
    open: (layout) => openRunFiles(backend, layout, coalesceWindow),
    read: (layout) => readManifest(backend, layout),
    readResumeToken: (layout) => readResumeToken(backend, layout),
    readOwner: (layout) => readOwner(backend, layout),
    claimTakeover: (layout, previous, claimant, isAlive) => claimTakeover(backend, layout, previous, claimant, isAlive)
  })
}

/** A takeover records its claimant as the run's owner within seconds; a claim older than this is dead. */
const claimLifetimeMs = 60_000

const ownerSlug = (owner: RunOwner | undefined) =>
  owner === undefined ? "none" : `${owner.host}-${owner.pid}-${owner.since}`.replace(/[^A-Za-z0-9.-]/g, "_")

/** Removes the run folder's takeover claims but `kept` (and the chain of dead claimants it ends). */
const dropEarlierClaims = (backend: FileBackend, layout: RunLayout, kept: string) =>
  Effect.gen(function*() {
    const name = kept.slice(layout.runDir.length + 1)
    const earlier = (yield* backend.list(layout.runDir)).filter((entry) => entry.startsWith(".takeover-") && !name.startsWith(entry))
    yield* Effect.forEach(earlier, (entry) => backend.remove(`${layout.runDir}/${entry}`), { discard: true })
  })

/**
 * `.takeover-<previous owner>` in the run folder, created exclusively, holds its claimant. When it
 * exists and its claimant is dead, the next claim is `.takeover-<previous owner>~<dead claimant>`:
 * one name per dead claimant, so that again exactly one caller wins it. The winner removes the
 * claims of earlier takeovers (a run resumed again and again kept one file per resume): its own
 * stays, for a caller that read the owner it replaces; only a caller that read an owner two
 * takeovers old, and stalled since, could claim a removed name again.
 */
const claimTakeover = (
  backend: FileBackend,
  layout: RunLayout,
  previous: RunOwner | undefined,
  claimant: RunOwner,
  isAlive: (claimant: RunOwner) => Effect.Effect<boolean>
): Effect.Effect<boolean, FileAccessError> =>
  Effect.gen(function*() {
    const base = `${layout.runDir}/.takeover-${ownerSlug(previous)}`
    let path = base
    // Bounded: each step passes one dead claimant.
    for (let step = 0; step < 64; step++) {
      if (yield* backend.createExclusive(path, `${JSON.stringify(claimant)}\n`)) {
        yield* dropEarlierClaims(backend, layout, path)
        return true
      }
      const text = yield* backend.readText(path)
      const holder = text === undefined ? undefined : Option.getOrUndefined(decodeOwner(text))
      const modifiedMs = yield* backend.modifiedAt(path)
      const now = yield* Clock.currentTimeMillis
      const expired = modifiedMs !== undefined && now - modifiedMs > claimLifetimeMs
      // A claim being written (empty) or unreadable is held until it expires.
      const dead = expired || (holder !== undefined && !(yield* isAlive(holder)))
      if (!dead) return false
      path = `${base}~${holder === undefined ? `unreadable-${modifiedMs ?? 0}` : ownerSlug(holder)}`
    }
    return false
  })
