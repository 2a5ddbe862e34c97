/** LRN-2/LRN-6's excluded folders and dirty entries to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { changedFiles, dirtyEntries, excludedFolders } from "../../src/domain/LearningSnapshotPaths.js"

describe("learning snapshot paths, exactly", () => {
  it("folders are normalised to forward slashes without trailing ones; the repo itself and outside folders drop", () => {
    assert.deepStrictEqual(
      excludedFolders(["a\\b\\", ".runs/", "out//", "x/y/", "", ".", "./", "..", "../up", "/abs", "..x"]),
      ["a/b", ".runs", "out", "x/y", "..x"]
    )
  })

  it("the prefix is cut only from paths below it", () => {
    const status = ["M  sub/a.ts", "?? other/b.ts", "R  sub/new.ts", "sub/old.ts", " M sub/.runs/x"].join("\0") + "\0"
    assert.deepStrictEqual(dirtyEntries(status, [".runs"], "sub/"), ["M  a.ts", "?? other/b.ts", "R  new.ts"])
    assert.deepStrictEqual(changedFiles(status, [".runs"], "sub/"), ["a.ts", "other/b.ts", "new.ts"])
  })
})
