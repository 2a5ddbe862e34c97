/**
 * What a learning snapshot packs (SPEC LRN-2, LRN-6): the repository's files from git's output minus
 * the folders the orchestrator writes to, the diff command against the snapshot's commit, and the
 * dirty entries that stall a validation. Pure text in, text out; the git calls are in the layers.
 */
import { isWithin } from "./PathContainment.js"

/**
 * The folders the orchestrator writes to (runs root, out root, snapshot storage) that lie inside the
 * repository, repo-relative with forward slashes: never packed and never counted as dirt. Every path
 * is absolute and real (symbolic links resolved, as git sees the tree: a runs root reached through a
 * link into the repository is inside it); the repository itself and folders outside it are left out.
 */
export const excludedFolders = (repoRoot: string, folders: ReadonlyArray<string>, sep: string): ReadonlyArray<string> =>
  folders
    .filter((folder) => isWithin(repoRoot, folder, sep) && !isWithin(folder, repoRoot, sep))
    .map((folder) =>
      folder.slice(repoRoot.length).split(sep).filter((part) => part.length > 0).join("/")
    )

/** Whether a repo-relative path (as git prints it; a folder may end in `/`) lies in one of `folders`. */
export const isExcluded = (file: string, folders: ReadonlyArray<string>): boolean =>
  folders.some((folder) => isWithin(folder, file, "/"))

/** Splits `-z` output (NUL-terminated records). */
export const splitNul = (text: string): ReadonlyArray<string> => text.split("\0").filter((record) => record.length > 0)

/** The file list to pack: `git ls-files` output minus deleted files and the excluded folders, deduplicated. */
export const snapshotFileList = (
  listed: ReadonlyArray<string>,
  deleted: ReadonlyArray<string>,
  folders: ReadonlyArray<string>
): ReadonlyArray<string> => {
  const gone = new Set(deleted)
  return [...new Set(listed)].filter((file) => !gone.has(file) && !isExcluded(file, folders))
}

/** One `sh` word: left bare when it holds no character the shell reads, single-quoted otherwise. */
export const shellWord = (word: string): string =>
  /^[A-Za-z0-9_./=:@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`

/**
 * LRN-2's `diff_path` file, as the `sh -c` command that prints it: the tracked changes of the working
 * tree against the snapshot's commit, binary files included (`--binary`, so `git apply` can replay
 * it). Untracked files are not in it: the tarball holds them already, with everything else. Like
 * `git ls-files`, only the repository root's part of the work tree counts (`.`), and the excluded
 * folders are left out, their names taken literally (`*` in a folder name is no wildcard). Paths
 * stay relative to the top of the work tree, as `git apply` reads them. Color, external diff
 * drivers and textconv filters are off, and the a/ b/ prefixes and top-level paths forced, so that no
 * user setting turns the patch into a rendering.
 */
export const snapshotDiffCommand = (commit: string, folders: ReadonlyArray<string>): string =>
  [
    "git",
    "diff",
    "--binary",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    // diff.noprefix, diff.mnemonicPrefix and diff.relative would change the paths `git apply -p1` reads.
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--no-relative",
    commit,
    "--",
    ".",
    ...folders.map((folder) => `:(exclude,literal)${folder}`)
  ].map(shellWord).join(" ")

/**
 * `git status --porcelain -z` records as `XY path` lines, without those in the excluded folders. git
 * prints paths from the top of the work tree; `prefix` (`git rev-parse --show-prefix`: where the
 * repository root lies below it, `""` or `sub/dir/`) is cut so paths are relative to the repository
 * root like the folders. A rename or copy carries its source as the next record, which is dropped.
 */
export const dirtyEntries = (porcelainZ: string, folders: ReadonlyArray<string>, prefix = ""): ReadonlyArray<string> => {
  const records = splitNul(porcelainZ)
  const lines: Array<string> = []
  for (let i = 0; i < records.length; i++) {
    const record = records[i] ?? ""
    const xy = record.slice(0, 2)
    if (xy.includes("R") || xy.includes("C")) i++
    const fromTop = record.slice(3)
    const file = prefix.length > 0 && fromTop.startsWith(prefix) ? fromTop.slice(prefix.length) : fromTop
    if (!isExcluded(file, folders)) lines.push(`${xy} ${file}`)
  }
  return lines
}

/** The changed files of `git status --porcelain -z` (their paths), excluded folders left out. */
export const changedFiles = (porcelainZ: string, folders: ReadonlyArray<string>, prefix = ""): ReadonlyArray<string> =>
  dirtyEntries(porcelainZ, folders, prefix).map((line) => line.slice(3))

export const snapshotDirVariable = "LEARNING_SNAPSHOT_DIR"

/**
 * LRN-2: the snapshot folder is a file, so no snapshot can be stored (retrying cannot help). `given`:
 * the folder is `LEARNING_SNAPSHOT_DIR`'s, else the default under the runs root.
 */
export const snapshotFolderIsFile = (folder: string, given: boolean): string =>
  given
    ? `${snapshotDirVariable}=${JSON.stringify(folder)} is a file, not a folder: no learning snapshot can be stored there. ` +
      `Point ${snapshotDirVariable} at a folder (it is created when missing), move the file away, or unset it ` +
      `to use the runs folder's learning-snapshots.`
    : `${folder} is a file, not a folder: no learning snapshot can be stored there. Move the file away, or set ` +
      `${snapshotDirVariable} to a folder.`

/** LRN-2: `LEARNING_SNAPSHOT_DIR` lies under a file (`file`), so its folder can never be made. */
export const snapshotFolderUnderFile = (folder: string, file: string): string =>
  `${snapshotDirVariable}=${JSON.stringify(folder)} lies under ${file}, which is a file, not a folder: no learning snapshot can ` +
  `be stored there. Point ${snapshotDirVariable} at a folder (it is created when missing), or unset it to use the runs ` +
  `folder's learning-snapshots.`

/**
 * LRN-2: the snapshot folder is the repository itself: each snapshot stored there would be packed
 * into the next one and leave the tree dirty (the repository cannot be left out of itself).
 */
export const snapshotFolderIsRepository = (folder: string): string =>
  `${snapshotDirVariable}=${JSON.stringify(folder)} is the repository itself: each snapshot stored there would be packed ` +
  `into the next one and leave the tree dirty, so no validation could pass. Point ${snapshotDirVariable} at a folder ` +
  `inside the repository (snapshots leave it out) or outside it, or unset it to use the runs folder's learning-snapshots.`

/** Error codes of a folder that another attempt a second later finds just as unwritable (LRN-2). */
const unmendable = {
  EACCES: { said: "permission denied", fix: "Make it writable for this user" },
  EPERM: { said: "operation not permitted", fix: "Make it writable for this user" },
  EROFS: { said: "it is on a read-only file system", fix: "Choose a folder on a writable file system" },
  ENOSPC: { said: "no space left on its device", fix: "Free some space on its device" },
  EDQUOT: { said: "disk quota exceeded", fix: "Free some space on its device" },
  ENOTDIR: { said: "a file stands where a folder should be on its path", fix: "Move that file away" },
  EEXIST: { said: "a file stands where a folder should be on its path", fix: "Move that file away" }
} as const

export type UnmendableCode = keyof typeof unmendable

/** The unmendable code in a system error's words (`EACCES: permission denied, open '…'`), if any. */
export const unmendableCode = (systemMessage: string): UnmendableCode | undefined =>
  (Object.keys(unmendable) as ReadonlyArray<UnmendableCode>).find((code) => new RegExp(`\\b${code}\\b`).test(systemMessage))

/**
 * LRN-2: the snapshot folder cannot be written, for a reason retrying cannot mend: the folder, what
 * failed (when it is not the folder itself), the code and the fix. `given`: the folder is
 * `LEARNING_SNAPSHOT_DIR`'s, else the default under the runs root.
 */
export const snapshotFolderUnwritable = (
  input: { readonly folder: string; readonly given: boolean; readonly code: UnmendableCode; readonly failedPath: string }
): string => {
  const { fix, said } = unmendable[input.code]
  const where = input.failedPath === input.folder ? "" : ` (at ${input.failedPath})`
  const way = input.given
    ? `point ${snapshotDirVariable} at another folder, or unset it to use the runs folder's learning-snapshots.`
    : `or set ${snapshotDirVariable} to another folder.`
  const named = input.given ? `${snapshotDirVariable}=${JSON.stringify(input.folder)}` : `The learning snapshot folder ${input.folder}`
  return `${named} cannot be written${where}: ${input.code}, ${said}. Retrying cannot mend that, so no learning snapshot ` +
    `is stored for this run. ${fix}, ${way}`
}
