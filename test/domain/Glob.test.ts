/**
 * The stage cache's globs (DECISIONS B-5) rule by rule: each problem a glob can have and its exact
 * message, the folder a glob's files can be under, what each wildcard matches and does not, and the
 * folders `**` does not enter. StageCache.test.ts checks a few globs end to end.
 */
import { assert, describe, it } from "@effect/vitest"
import { globProblem, globToRegExp, skippedFolder, staticBase } from "../../src/domain/Glob.js"

const matches = (glob: string, path: string) => globToRegExp(glob).test(path)

describe("globProblem", () => {
  it("names each problem, first found first", () => {
    assert.strictEqual(globProblem(""), "must be a non-empty glob")
    assert.strictEqual(globProblem("  "), "must be a non-empty glob")
    assert.strictEqual(globProblem("/etc/*"), "must be relative to the stage's folder (no leading /)")
    assert.strictEqual(globProblem("C:\\x"), "must be relative to the stage's folder (no leading /)")
    assert.strictEqual(globProblem("c:/x"), "must be relative to the stage's folder (no leading /)")
    assert.strictEqual(globProblem("src\\a.ts"), "must use / between folders (no backslashes)")
    assert.strictEqual(globProblem("a/../b"), "must stay inside the stage's folder (no .. segments)")
    assert.strictEqual(globProblem(".."), "must stay inside the stage's folder (no .. segments)")
    assert.strictEqual(globProblem("a\u0000b"), "must not contain a NUL byte")
  })

  it("accepts relative globs, names that merely contain dots or a colon, and `./`", () => {
    for (const glob of ["src/**/*.ts", "..a/b", "a../b", "./x", "C:x", "1:/x"]) assert.isUndefined(globProblem(glob), glob)
  })
})

describe("staticBase", () => {
  it("stops at the first segment with any wildcard, ignoring `.` and empty segments", () => {
    assert.strictEqual(staticBase("./a//b/c?/d.ts"), "a/b")
    assert.strictEqual(staticBase("a/[xy]/z"), "a")
    assert.strictEqual(staticBase("a/{b,c}/z"), "a")
    assert.strictEqual(staticBase("a/b/*"), "a/b")
    assert.strictEqual(staticBase("*"), "")
  })

  it("a glob without wildcards is its own base, a file or a whole folder", () => {
    assert.strictEqual(staticBase("./dist/"), "dist")
    assert.strictEqual(staticBase("a/b/c.txt"), "a/b/c.txt")
    assert.strictEqual(staticBase("."), "")
    assert.strictEqual(staticBase(""), "")
  })
})

describe("globToRegExp", () => {
  it("`*` and `?` stay within one segment; `?` is exactly one character", () => {
    assert.isTrue(matches("a/*", "a/"))
    assert.isTrue(matches("a?c", "abc"))
    assert.isFalse(matches("a?c", "ac"))
    assert.isFalse(matches("a?c", "a/c"))
    assert.isFalse(matches("*", "a/b"))
  })

  it("`**` in the middle spans zero or more whole segments; at the end, anything below", () => {
    assert.isTrue(matches("a/**/b", "a/b"))
    assert.isTrue(matches("a/**/b", "a/x/y/b"))
    assert.isFalse(matches("a/**/b", "ab"))
    assert.isTrue(matches("a/**", "a/x"))
    assert.isTrue(matches("a/**", "a/x/y"))
    assert.isFalse(matches("a/**", "a/x/"))
    assert.isFalse(matches("a/**", "b/x"))
  })

  it("`.` and empty segments are dropped; the whole path must match", () => {
    assert.isTrue(matches("./src//a.ts", "src/a.ts"))
    assert.isFalse(matches("a.ts", "xa.ts"))
    assert.isFalse(matches("a.ts", "a.tsx"))
  })

  it("regular-expression characters are literal", () => {
    assert.isTrue(matches("a.b+c^d$e(f)g|h]i\\j", "a.b+c^d$e(f)g|h]i\\j"))
    assert.isFalse(matches("a.b", "axb"))
    assert.isFalse(matches("a+", "aa"))
  })

  it("classes: a range, `!` negates, an unclosed `[` is literal", () => {
    assert.isTrue(matches("f[0-9].ts", "f7.ts"))
    assert.isFalse(matches("f[0-9].ts", "fx.ts"))
    assert.isTrue(matches("f[!0-9].ts", "fx.ts"))
    assert.isFalse(matches("f[!0-9].ts", "f7.ts"))
    assert.isTrue(matches("f[ab", "f[ab"))
    assert.isFalse(matches("f[ab", "fa"))
    assert.isTrue(matches("[\\]x", "\\x"))
  })

  it("braces: a choice of whole alternatives; a comma outside them and a lone `}` are literal; an unclosed one ends at the segment", () => {
    assert.isTrue(matches("{ab,cd}.ts", "cd.ts"))
    assert.isFalse(matches("{ab,cd}.ts", "abcd.ts"))
    assert.isFalse(matches("{ab,cd}.ts", "a.ts"))
    assert.isTrue(matches("a,b}", "a,b}"))
    assert.isTrue(matches("{a,b", "b"))
    assert.isFalse(matches("{a,b", "{a,b"))
  })
})

describe("skippedFolder", () => {
  it("`**` does not walk into .git or node_modules, only into other folders", () => {
    assert.isTrue(skippedFolder(".git"))
    assert.isTrue(skippedFolder("node_modules"))
    for (const name of [".github", "node_modules2", "src", ""]) assert.isFalse(skippedFolder(name), name)
  })
})
