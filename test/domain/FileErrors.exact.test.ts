/** FileErrors' messages, issue lines and JSON depth check to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import {
  decodeJsonFile,
  FileAccessError,
  formatIssues,
  InvalidFile,
  jsonDepthLimit,
  nestsDeeperThan
} from "../../src/domain/FileErrors.js"

const leftOf = <R, L>(either: Either.Either<R, L>): L => Either.getOrThrow(Either.flip(either))

const failureOf = <A, I>(schema: Schema.Schema<A, I>, text: string, hint?: string) =>
  Effect.runSync(Effect.flip(decodeJsonFile(schema, "f.json", hint)(text)))

describe("InvalidFile and FileAccessError messages, exactly", () => {
  it("InvalidFile joins its issues and adds the hint after one space", () => {
    assert.strictEqual(new InvalidFile({ path: "a.json", issues: ["x: bad", "y: worse"] }).message, "a.json is not valid: x: bad; y: worse.")
    assert.strictEqual(
      new InvalidFile({ path: "a.json", issues: ["x: bad"], hint: "Fix it." }).message,
      "a.json is not valid: x: bad. Fix it."
    )
  })

  it("a read-only file system names the operation and the file; a cause that is no Error is its String()", () => {
    assert.strictEqual(
      new FileAccessError({ path: "/ro/x.json", operation: "write", cause: new Error("EROFS: read-only file system") }).message,
      "Read-only file system: could not write /ro/x.json; make it writable or choose another folder."
    )
    assert.strictEqual(
      new FileAccessError({ path: "/x", operation: "read", cause: "ENOSPC as text" }).message,
      "No space left on device writing /x (read); free some space and try again."
    )
    assert.strictEqual(new FileAccessError({ path: "/x", operation: "read", cause: 7 }).message, "Could not read /x: 7")
  })

  it("a folder where a file belongs is said in words, naming the file", () => {
    const platformWords = "BadResource: FileSystem.readFile (/r/codex.orchestrator.json): EISDIR: illegal operation on a directory, read"
    assert.strictEqual(
      new FileAccessError({ path: "codex.orchestrator.json", operation: "read", cause: new Error(platformWords) }).message,
      "codex.orchestrator.json is a folder, not a file: could not read it; remove the folder or point to the file."
    )
  })
  it("a file where a folder belongs on the way, and a refused permission, are said in words, naming the path", () => {
    const notDir = "BadResource: FileSystem.stat (/tmp/x/docs/PRD.md): ENOTDIR: not a directory, stat '/tmp/x/docs/PRD.md'"
    assert.strictEqual(
      new FileAccessError({ path: "/tmp/x/docs/PRD.md", operation: "inspect", cause: new Error(notDir) }).message,
      "Could not inspect /tmp/x/docs/PRD.md: a folder on its way is a file (ENOTDIR); move that file aside or choose another path."
    )
    for (const code of ["EPERM: operation not permitted, mkdir '/sys/x'", "EACCES: permission denied, open '/root/x'"]) {
      assert.strictEqual(
        new FileAccessError({ path: "/sys/x", operation: "create folder", cause: new Error(`Unknown: FileSystem.makeDirectory (/sys/x): ${code}`) })
          .message,
        "Permission denied: could not create folder /sys/x; choose a path you have access to, or change its permissions."
      )
    }
  })
})

describe("formatIssues, exactly", () => {
  it("names the root, joins nested paths with dots, and drops the 'Expected undefined' of an optional field with a bad value", () => {
    const root = leftOf(Schema.decodeUnknownEither(Schema.String)(1))
    assert.deepStrictEqual(formatIssues(root), ["(root): Expected string, actual 1"])
    const schema = Schema.Struct({ a: Schema.optional(Schema.Struct({ b: Schema.Number })), c: Schema.optional(Schema.Number) })
    const nested = leftOf(Schema.decodeUnknownEither(schema, { errors: "all" })({ a: { b: "x" }, c: "y" }))
    assert.deepStrictEqual(formatIssues(nested), ["a.b: Expected number, actual \"x\"", "c: Expected number, actual \"y\""])
  })

  it("keeps an 'Expected undefined' issue when no other issue is at or under its path", () => {
    const schema = Schema.Struct({ a: Schema.Undefined, ab: Schema.Number })
    const error = leftOf(Schema.decodeUnknownEither(schema, { errors: "all" })({ a: 1, ab: "x" }))
    assert.deepStrictEqual(formatIssues(error), ["a: Expected undefined, actual 1", "ab: Expected number, actual \"x\""])
  })
})

describe("formatIssues: one short issue a path", () => {
  const long = Schema.Struct({ a: Schema.String, b: Schema.String, c: Schema.String, d: Schema.String, e: Schema.String, f: Schema.String })
  const issuesOf = <A, I>(schema: Schema.Schema<A, I>, value: unknown) =>
    formatIssues(leftOf(Schema.decodeUnknownEither(schema, { errors: "all" })(value)))

  it("an array, a record or a struct is said in words at any length; a refined type as its base", () => {
    assert.deepStrictEqual(issuesOf(Schema.Struct({ x: Schema.Array(Schema.String) }), { x: 1 }), ["x: Expected an array of strings, actual 1"])
    assert.deepStrictEqual(issuesOf(Schema.mutable(Schema.Array(Schema.Number)), "x"), [`(root): Expected an array of numbers, actual "x"`])
    const path = Schema.String.pipe(Schema.filter((text) => text.startsWith("/")))
    assert.deepStrictEqual(issuesOf(Schema.Struct({ r: Schema.Array(path) }), { r: "x" }), [`r: Expected an array of strings, actual "x"`])
    assert.deepStrictEqual(issuesOf(Schema.Struct({ r: path }), { r: 5 }), ["r: Expected string, actual 5"])
    assert.deepStrictEqual(issuesOf(Schema.Array(Schema.Array(Schema.String)), 5), ["(root): Expected an array, actual 5"])
    assert.deepStrictEqual(issuesOf(Schema.Record({ key: Schema.String, value: path }), "x"), [`(root): Expected an object, actual "x"`])
    assert.deepStrictEqual(issuesOf(Schema.Struct({ a: Schema.String }), 1), ["(root): Expected an object, actual 1"])
    assert.deepStrictEqual(issuesOf(Schema.Tuple(Schema.String), 1), ["(root): Expected an array, actual 1"])
  })

  it("a type up to 80 characters is quoted; a longer one is named by its kind, or cut", () => {
    assert.deepStrictEqual(issuesOf(Schema.Struct({ x: Schema.Array(long) }), { x: 1 }), ["x: Expected an array, actual 1"])
    assert.deepStrictEqual(issuesOf(Schema.Struct({ x: long }), { x: 1 }), ["x: Expected an object, actual 1"])
    const union = Schema.Literal("a".repeat(50), "b".repeat(50))
    assert.deepStrictEqual(issuesOf(union, 1), [`(root): Expected "${"a".repeat(50)}" | "${"b".repeat(50)}", actual 1`])
    const branded = Schema.String.pipe(Schema.brand("x".repeat(90)))
    assert.deepStrictEqual(issuesOf(branded, 1), [`(root): Expected ${`string & Brand<"${"x".repeat(90)}">`.slice(0, 80)}…, actual 1`])
  })

  it("a union's alternatives are joined on one issue; a long actual value is cut at 80 characters", () => {
    assert.deepStrictEqual(issuesOf(Schema.Struct({ s: Schema.Literal("a", "b", "c") }), { s: 7 }), [`s: Expected "a" | "b" | "c", actual 7`])
    const value = "v".repeat(100)
    assert.deepStrictEqual(issuesOf(Schema.Number, value), [`(root): Expected number, actual "${"v".repeat(79)}…`])
  })
})

describe("nestsDeeperThan, exactly", () => {
  it("counts arrays and objects, at the limit and one past it", () => {
    assert.isFalse(nestsDeeperThan("[[]]", 2))
    assert.isTrue(nestsDeeperThan("[[[]]]", 2))
    assert.isTrue(nestsDeeperThan("{\"a\":{\"b\":{}}}", 2))
    assert.isFalse(nestsDeeperThan("{\"a\":{}}", 2))
    assert.isFalse(nestsDeeperThan("", 0))
  })

  it("closing brackets and braces bring the depth back down", () => {
    assert.isFalse(nestsDeeperThan("[[],[],{},{}]", 2))
    assert.isFalse(nestsDeeperThan("{\"a\":[],\"b\":{},\"c\":[]}", 2))
  })

  it("skips brackets inside strings, escaped quotes included, and counts again after the string ends", () => {
    assert.isFalse(nestsDeeperThan("[\"[[[{{{\"]", 1))
    assert.isFalse(nestsDeeperThan("[\"a\\\"[[[\"]", 1))
    assert.isFalse(nestsDeeperThan("[\"\\\\\",\"[[\"]", 1))
    assert.isTrue(nestsDeeperThan("[\"a\\\\\",[]]", 1))
    assert.isTrue(nestsDeeperThan("[\"x\",[]]", 1))
  })
})

describe("decodeJsonFile, exactly", () => {
  it("refuses a file nested past the limit with one root issue, the hint kept", () => {
    const deep = `${"[".repeat(jsonDepthLimit + 1)}${"]".repeat(jsonDepthLimit + 1)}`
    const error = failureOf(Schema.Unknown, deep, "See the docs.")
    assert.deepStrictEqual(error.issues, [`(root): nested deeper than ${jsonDepthLimit} levels`])
    assert.strictEqual(error.hint, "See the docs.")
    assert.strictEqual(jsonDepthLimit, 64)
    const atLimit = `${"[".repeat(jsonDepthLimit)}${"]".repeat(jsonDepthLimit)}`
    assert.isTrue(Either.isRight(Effect.runSync(Effect.either(decodeJsonFile(Schema.Unknown, "f.json")(atLimit)))))
  })

  it("reports every bad field at once, ignores unknown keys and leaves the hint out when none is given", () => {
    const schema = Schema.Struct({ a: Schema.Number, b: Schema.String })
    const error = failureOf(schema, JSON.stringify({ a: "x", b: 1, extra: true }))
    assert.deepStrictEqual(error.issues, ["a: Expected number, actual \"x\"", "b: Expected string, actual 1"])
    assert.isFalse("hint" in error && error.hint !== undefined)
    assert.strictEqual(error.path, "f.json")
    const decoded = Effect.runSync(decodeJsonFile(schema, "f.json")(JSON.stringify({ a: 1, b: "y", extra: true })))
    assert.deepStrictEqual(decoded, { a: 1, b: "y" })
  })
})

describe("decodeJsonFile: items named by their ids", () => {
  const Stage = Schema.Struct({ id: Schema.String, command: Schema.NonEmptyString })
  const Config = Schema.Struct({ pipelines: Schema.Array(Schema.Struct({ id: Schema.String, stages: Schema.Array(Stage) })) })

  it("an issue inside array items that have an id names them after its path, so a long config needs no counting", () => {
    const text = JSON.stringify({
      pipelines: [
        { id: "build", stages: [{ id: "a", command: "true" }] },
        { id: "deploy", stages: [{ id: "push", command: "true" }, { id: "notify", command: "" }] }
      ]
    })
    assert.deepStrictEqual(failureOf(Config, text).issues, [
      "pipelines.1.stages.1.command (pipeline \"deploy\", stage \"notify\"): Expected a non empty string, actual \"\""
    ])
  })

  it("items without a string id stay unnamed, and a hostile id is shown on one line, cut", () => {
    const long = `x\n${"y".repeat(100)}`
    const text = JSON.stringify({ pipelines: [{ id: 7, stages: [] }, { id: long, stages: [{ command: "true" }] }] })
    assert.deepStrictEqual(failureOf(Config, text).issues, [
      "pipelines.0.id: Expected string, actual 7",
      `pipelines.1.stages.0.id (pipeline "x\\n${"y".repeat(37)}…"): is missing`
    ])
  })
})
