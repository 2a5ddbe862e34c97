/** LRN-2/LRN-6's excluded folders and dirty entries to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { changedFiles, dirtyEntries, excludedFolders } from "../../src/domain/LearningSnapshotPaths.js"

describe("learning snapshot paths, exactly", () => {
  it("folders are repo-relative with forward slashes and no trailing ones; the repo itself, its parents and outside folders drop", () => {
    assert.deepStrictEqual(
      excludedFolders(
        "/r/repo/",
        ["/r/repo/.runs/", "/r/repo/out//", "/r/repo/x/y", "/r/repo", "/r/repo/", "/r", "/r/repo-other/a", "/up", "/r/repo/..x"],
        "/"
      ),
      [".runs", "out", "x/y", "..x"]
    )
    assert.deepStrictEqual(excludedFolders("C:\\repo", ["C:\\repo\\a\\b\\", "C:\\repox\\c"], "\\"), ["a/b"])
    assert.deepStrictEqual(excludedFolders("/", ["/.runs"], "/"), [".runs"])
  })

  it("the prefix is cut only from paths below it", () => {
    const status = ["M  sub/a.ts", "?? other/b.ts", "R  sub/new.ts", "sub/old.ts", " M sub/.runs/x"].join("\0") + "\0"
    assert.deepStrictEqual(dirtyEntries(status, [".runs"], "sub/"), ["M  a.ts", "?? other/b.ts", "R  new.ts"])
    assert.deepStrictEqual(changedFiles(status, [".runs"], "sub/"), ["a.ts", "other/b.ts", "new.ts"])
  })
})
