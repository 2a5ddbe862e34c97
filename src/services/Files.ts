import { Context, type Effect, type Scope, type Stream } from "effect"
import type { FileAccessError } from "../domain/FileErrors.js"

/** What `info` tells about a path (symlinks followed). */
export interface FileInfo {
  readonly type: "file" | "directory" | "other"
  readonly size: number
}

export interface ByteWriter {
  readonly write: (bytes: Uint8Array) => Effect.Effect<void, FileAccessError>
}

/**
 * The file operations the orchestrator's own records need (run folders, task state, metrics, locks),
 * with one Live interpreter on the platform FileSystem and one in memory. Everything that writes our
 * JSON goes through `writeAtomic` (DECISIONS D-6); locks are `createExclusive` plus `remove`.
 */
export class Files extends Context.Tag("orchestrator/Files")<
  Files,
  {
    readonly makeDirectory: (path: string) => Effect.Effect<void, FileAccessError>
    /**
     * Replaces the file so that a reader sees the old or the new content, never a mix (D-6). With
     * `durable: false` the data is not fsynced first: for records that only matter while the machine
     * is up (heartbeats, the owner's pids), where a power loss makes them moot anyway. The parent
     * folder must exist.
     */
    readonly writeAtomic: (
      path: string,
      text: string,
      options?: { readonly durable?: boolean }
    ) => Effect.Effect<void, FileAccessError>
    /**
     * Fills a file chunk by chunk and puts it in place whole (D-6): `fill` writes to a sibling temp
     * file, which is fsynced and renamed over `path` once `fill` succeeds; on any failure the temp
     * file is removed and `path` is untouched. For large artifacts (a snapshot's tarball, a diff, a
     * mirrored asset). With `durable: false` the temp file is not fsynced (a cache, rebuilt at will).
     */
    readonly writeAtomicStream: <E, R>(
      path: string,
      fill: (writer: ByteWriter) => Effect.Effect<void, E, R>,
      options?: { readonly durable?: boolean }
    ) => Effect.Effect<void, E | FileAccessError, Exclude<R, Scope.Scope>>
    readonly append: (path: string, text: string) => Effect.Effect<void, FileAccessError>
    /** Creates the file only if it does not exist yet; false when it already did. */
    readonly createExclusive: (path: string, text: string) => Effect.Effect<boolean, FileAccessError>
    /** The file's text, or undefined when it does not exist. */
    readonly readText: (path: string) => Effect.Effect<string | undefined, FileAccessError>
    /** The file's lines, read as a stream (a large JSON Lines file never sits in memory); none when it does not exist. */
    readonly readLines: (path: string) => Stream.Stream<string, FileAccessError>
    /**
     * The file's bytes from byte `from` (default 0) to its end, as a stream: an append-only file is
     * read on from where a reader stopped (metrics.json, MET-3). None when the file does not exist.
     */
    readonly readBytes: (path: string, from?: number) => Stream.Stream<Uint8Array, FileAccessError>
    /** Opens a file for appending bytes; closed with the scope. */
    readonly openAppend: (path: string) => Effect.Effect<ByteWriter, FileAccessError, Scope.Scope>
    /** Creates a relative symlink; fails if the platform refuses. */
    readonly symlink: (target: string, path: string) => Effect.Effect<void, FileAccessError>
    /** Deletes a file; a missing one is not an error. */
    readonly remove: (path: string) => Effect.Effect<void, FileAccessError>
    /** The names of the entries of a folder, sorted; a missing folder has none. */
    readonly list: (dir: string) => Effect.Effect<ReadonlyArray<string>, FileAccessError>
    /** Writes bytes as they are (a mirrored asset); not atomic. The parent folder must exist. */
    readonly writeBytes: (path: string, bytes: Uint8Array) => Effect.Effect<void, FileAccessError>
    /** The file's bytes, or undefined when it does not exist. */
    readonly readAllBytes: (path: string) => Effect.Effect<Uint8Array | undefined, FileAccessError>
    /** Deletes a file or a folder with everything in it; a missing one is not an error. */
    readonly removeTree: (path: string) => Effect.Effect<void, FileAccessError>
    /** Copies one file to `to`, replacing it; the platform copies, so memory stays flat however large the file. */
    readonly copyFile: (from: string, to: string) => Effect.Effect<void, FileAccessError>
    /** Copies a folder with everything in it to `to` (which must not exist yet). */
    readonly copyTree: (from: string, to: string) => Effect.Effect<void, FileAccessError>
    /** Renames a file or folder (same file system). */
    readonly rename: (from: string, to: string) => Effect.Effect<void, FileAccessError>
    /** What is at `path` (symlinks followed), or undefined when nothing is. */
    readonly info: (path: string) => Effect.Effect<FileInfo | undefined, FileAccessError>
    /** The path with every symlink resolved, or undefined when it does not exist. */
    readonly realPath: (path: string) => Effect.Effect<string | undefined, FileAccessError>
    /** When the file was last modified (epoch ms), or undefined when it does not exist. */
    readonly modifiedAt: (path: string) => Effect.Effect<number | undefined, FileAccessError>
  }
>() {}
