/** Whether a real path lies inside a root's real path (mirror serve, design publish, init). */
import { assert, describe, it } from "@effect/vitest"
import { isWithin } from "../../src/domain/PathContainment.js"

describe("isWithin", () => {
  it("the root itself and anything under it are inside", () => {
    assert.isTrue(isWithin("/a/b", "/a/b", "/"))
    assert.isTrue(isWithin("/a/b", "/a/b/c", "/"))
    assert.isTrue(isWithin("/a/b", "/a/b/c/d.txt", "/"))
  })

  it("a sibling sharing the root's name as a prefix is not (/a/bc is not in /a/b), nor a parent or elsewhere", () => {
    assert.isFalse(isWithin("/a/b", "/a/bc", "/"))
    assert.isFalse(isWithin("/a/b", "/a/bc/d", "/"))
    assert.isFalse(isWithin("/a/b", "/a/b.git", "/"))
    assert.isFalse(isWithin("/a/b", "/a", "/"))
    assert.isFalse(isWithin("/a/b", "/", "/"))
    assert.isFalse(isWithin("/a/b", "/x/a/b", "/"))
    assert.isFalse(isWithin("/a/b", "", "/"))
  })

  it("trailing separators on either side do not change the answer", () => {
    assert.isTrue(isWithin("/a/b/", "/a/b", "/"))
    assert.isTrue(isWithin("/a/b", "/a/b/", "/"))
    assert.isTrue(isWithin("/a/b//", "/a/b/c", "/"))
    assert.isTrue(isWithin("/a/b/", "/a/b/c/", "/"))
    assert.isFalse(isWithin("/a/b/", "/a/bc", "/"))
    assert.isFalse(isWithin("/a/b/", "/a/", "/"))
  })

  it("the file system's root holds every absolute path", () => {
    assert.isTrue(isWithin("/", "/", "/"))
    assert.isTrue(isWithin("/", "/etc/hosts", "/"))
    assert.isFalse(isWithin("/", "relative/path", "/"))
  })

  it("the separator is the platform's (Windows paths)", () => {
    assert.isTrue(isWithin("C:\\repo", "C:\\repo\\src\\x.ts", "\\"))
    assert.isTrue(isWithin("C:\\repo\\", "C:\\repo", "\\"))
    assert.isFalse(isWithin("C:\\repo", "C:\\repository\\x", "\\"))
  })
})
