import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import {
  defaultTaskId,
  idFixHint,
  idMaxBytes,
  idMessage,
  idProblem,
  InvalidId,
  makeRunId,
  parseRunId,
  parseTaskId,
  resolveTaskId,
  RunId,
  slugify,
  TaskId
} from "../../src/domain/Ids.js"

/** The InvalidId of a rejected task id; fails the test when the id is accepted. */
const taskError = (value: string, source?: string): InvalidId => {
  const result = parseTaskId(value, source)
  if (Either.isRight(result)) return assert.fail(`expected ${JSON.stringify(value)} to be rejected`)
  return result.left
}

const runError = (value: string, source?: string): InvalidId => {
  const result = parseRunId(value, source)
  if (Either.isRight(result)) return assert.fail(`expected ${JSON.stringify(value)} to be rejected`)
  return result.left
}

const hasControlCharacter = (text: string) =>
  [...text].some((char) => {
    const code = char.codePointAt(0) ?? 0
    return code <= 31 || code === 127
  })

describe("ID-1 sanitiser", () => {
  it("rejects in the documented order", () => {
    assert.strictEqual(idProblem(""), "value must be a non-empty string.")
    assert.strictEqual(idProblem("a\u0001b"), "control characters are not allowed.")
    assert.strictEqual(idProblem("a:b"), "character \":\" is not allowed.")
    assert.strictEqual(idProblem("../x"), "leading dots are not allowed.")
    assert.strictEqual(idProblem("-x"), "a leading '-' is not allowed (tools would read it as an option).")
    assert.strictEqual(idProblem("a/b"), "slashes are not allowed.")
    assert.strictEqual(idProblem("ok-id_1.2"), undefined)
    assert.strictEqual(idProblem("a..b"), undefined)
  })

  it("refuses a leading '-' after the characters and a leading dot, before slashes; '-' elsewhere is fine", () => {
    const dash = "a leading '-' is not allowed (tools would read it as an option)."
    for (const value of ["-", "-x", "--task", "-1", "- x", "-a/b"]) assert.strictEqual(idProblem(value), dash, value)
    assert.strictEqual(idProblem("-a:b"), "character \":\" is not allowed.")
    assert.strictEqual(idProblem(".-x"), "leading dots are not allowed.")
    for (const value of ["a-", "a-b", "a--b", "x-"]) assert.strictEqual(idProblem(value), undefined, value)
    assert.strictEqual(taskError("-x").message, `Invalid task ID "-x": ${dash} ${idFixHint}`)
    assert.strictEqual(runError("-x").message, `Invalid run ID "-x": ${dash} ${idFixHint}`)
    assert.isFalse(Schema.is(TaskId)("-x"))
    assert.isFalse(Schema.is(RunId)("-x"))
  })

  it("names the variable a bad task id came from", () => {
    const result = parseTaskId("a/b", "MCP_RUNNER_TASK_ID")
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) {
      assert.include(result.left.message, "Invalid MCP_RUNNER_TASK_ID \"a/b\": Invalid task ID \"a/b\": slashes are not allowed.")
    }
  })

  it("treats every code point up to 31 and 127 as a control character, but not space", () => {
    for (const code of [0, 1, 9, 10, 13, 27, 31, 127]) {
      assert.strictEqual(idProblem(`a${String.fromCharCode(code)}b`), "control characters are not allowed.", `code ${code}`)
    }
    assert.strictEqual(idProblem("a b"), undefined)
    assert.strictEqual(idProblem("a~b"), undefined)
  })

  it("rejects each reserved character by name", () => {
    for (const char of ["<", ">", ":", "\"", "|", "?", "*"]) {
      assert.strictEqual(idProblem(`x${char}y`), `character "${char}" is not allowed.`)
    }
  })

  it("reports the first offending character scanning left to right", () => {
    assert.strictEqual(idProblem("a*b:c"), "character \"*\" is not allowed.")
    assert.strictEqual(idProblem("a:b*c"), "character \":\" is not allowed.")
    assert.strictEqual(idProblem("a\u0001b:"), "control characters are not allowed.")
    assert.strictEqual(idProblem("a:b\u0001"), "character \":\" is not allowed.")
  })

  it("checks characters before leading dots, and leading dots before slashes", () => {
    assert.strictEqual(idProblem(".a:b"), "character \":\" is not allowed.")
    assert.strictEqual(idProblem(".\u0002"), "control characters are not allowed.")
    assert.strictEqual(idProblem(".a/b"), "leading dots are not allowed.")
    assert.strictEqual(idProblem(".hidden"), "leading dots are not allowed.")
    assert.strictEqual(idProblem(".."), "leading dots are not allowed.")
    assert.strictEqual(idProblem("."), "leading dots are not allowed.")
  })

  it("rejects forward and back slashes anywhere", () => {
    assert.strictEqual(idProblem("a/b"), "slashes are not allowed.")
    assert.strictEqual(idProblem("a\\b"), "slashes are not allowed.")
    assert.strictEqual(idProblem("/abs"), "slashes are not allowed.")
    assert.strictEqual(idProblem("trailing/"), "slashes are not allowed.")
    assert.strictEqual(idProblem("x/../y"), "slashes are not allowed.")
  })

  it("accepts and returns valid ids unchanged (no trim, no lower-case)", () => {
    for (const value of ["a..b", "ok-id_1.2", " Mixed Case", "日本語-タスク", "Ünïcödé", "a.b", "0101", "a-", "CONSOLE", "com10", "x".repeat(idMaxBytes)]) {
      const task = parseTaskId(value)
      const run = parseRunId(value)
      assert.deepStrictEqual(task, Either.right(TaskId.make(value)))
      assert.deepStrictEqual(run, Either.right(RunId.make(value)))
      if (Either.isRight(task)) assert.strictEqual(task.right, value)
    }
  })

  it("builds the exact message for an empty id, without quotes", () => {
    const error = taskError("")
    assert.strictEqual(error.message, `Invalid task ID: value must be a non-empty string. ${idFixHint}`)
    assert.strictEqual(runError("").message, `Invalid run ID: value must be a non-empty string. ${idFixHint}`)
  })

  it("builds the exact message for each rule, labelled task or run", () => {
    assert.strictEqual(taskError("a:b").message, `Invalid task ID "a:b": character ":" is not allowed. ${idFixHint}`)
    assert.strictEqual(taskError("a|b").message, `Invalid task ID "a|b": character "|" is not allowed. ${idFixHint}`)
    assert.strictEqual(runError("../x").message, `Invalid run ID "../x": leading dots are not allowed. ${idFixHint}`)
    assert.strictEqual(runError("..").message, `Invalid run ID "..": leading dots are not allowed. ${idFixHint}`)
    assert.strictEqual(runError("a/b").message, `Invalid run ID "a/b": slashes are not allowed. ${idFixHint}`)
  })

  it("carries label, value, reason and source on the error", () => {
    const error = runError("a/b", "--run")
    assert.strictEqual(error._tag, "InvalidId")
    assert.strictEqual(error.label, "run")
    assert.strictEqual(error.value, "a/b")
    assert.strictEqual(error.reason, "slashes are not allowed.")
    assert.strictEqual(error.source, "--run")
    assert.isTrue(error instanceof InvalidId)
    assert.isUndefined(taskError("a/b").source)
  })

  it("prefixes the source only when one is given (ENV-3 vs ENV-4)", () => {
    assert.strictEqual(
      taskError("a/b", "MCP_RUNNER_TASK_ID").message,
      `Invalid MCP_RUNNER_TASK_ID "a/b": Invalid task ID "a/b": slashes are not allowed. ${idFixHint}`
    )
    assert.strictEqual(taskError("a/b").message, `Invalid task ID "a/b": slashes are not allowed. ${idFixHint}`)
  })

  it("ends every message with the fix hint", () => {
    assert.strictEqual(idFixHint, "Use letters, digits, '-', '_' or '.', not starting with '.' or '-'.")
    for (const value of ["", "a\u0000", "a?", ".x", "-x", "a\\b"]) {
      assert.isTrue(taskError(value).message.endsWith(` ${idFixHint}`), value)
    }
  })

  it("prints control characters escaped in the message", () => {
    assert.strictEqual(
      taskError("a\u0001b").message,
      `Invalid task ID "a\\u0001b": control characters are not allowed. ${idFixHint}`
    )
    assert.strictEqual(
      taskError("line\nbreak", "MCP_RUNNER_TASK_ID").message,
      `Invalid MCP_RUNNER_TASK_ID "line\\nbreak": Invalid task ID "line\\nbreak": control characters are not allowed. ${idFixHint}`
    )
    assert.strictEqual(taskError("tab\there").message, `Invalid task ID "tab\\there": control characters are not allowed. ${idFixHint}`)
  })

  it("prints no raw control character in any message, DEL included", () => {
    for (const code of [0, 7, 27, 31, 127]) {
      const message = taskError(`x${String.fromCharCode(code)}y`, "MCP_RUNNER_TASK_ID").message
      assert.isFalse(hasControlCharacter(message), `code ${code}: ${JSON.stringify(message)}`)
    }
  })

  it("prints DEL as \\u007f, exactly", () => {
    assert.strictEqual(
      taskError("x\u007fy").message,
      `Invalid task ID "x\\u007fy": control characters are not allowed. ${idFixHint}`
    )
  })

  it("bounds ids by their UTF-8 bytes, not their characters", () => {
    assert.strictEqual(idMaxBytes, 128)
    assert.strictEqual(idProblem("x".repeat(128)), undefined)
    assert.strictEqual(idProblem("x".repeat(129)), "ids are limited to 128 bytes (UTF-8); this one has 129.")
    assert.strictEqual(idProblem("é".repeat(64)), undefined)
    assert.strictEqual(idProblem("é".repeat(65)), "ids are limited to 128 bytes (UTF-8); this one has 130.")
    assert.strictEqual(idProblem("x".repeat(300)), "ids are limited to 128 bytes (UTF-8); this one has 300.")
    assert.strictEqual(idProblem("é".repeat(200)), "ids are limited to 128 bytes (UTF-8); this one has 400.")
  })

  it("refuses task ids that name what the runs root keeps beside the tasks: a lock file, the snapshot and local-mcp folders", () => {
    assert.strictEqual(
      taskError("build.lock").message,
      `Invalid task ID "build.lock": a task id may not end in ".lock": .runs/build.lock is task "build"'s lock file. ${idFixHint}`
    )
    assert.strictEqual(
      taskError("a.experiences.lock").reason,
      `a task id may not end in ".lock": .runs/a.experiences.lock is task "a"'s lock file.`
    )
    assert.strictEqual(taskError("X.LOCK").reason, `a task id may not end in ".lock": .runs/X.LOCK is task "X"'s lock file.`)
    for (const name of ["learning-snapshots", "Learning-Snapshots", "local-mcp"]) {
      assert.strictEqual(taskError(name).reason, `"${name}" is a folder the runs root keeps for itself (.runs/${name.toLowerCase()}).`, name)
    }
    assert.isTrue(Schema.is(TaskId)("build.locked"), "only the suffix is refused")
    assert.isFalse(Schema.is(TaskId)("build.lock"), "the schema refuses it too")
    // Run ids live inside their task's folder: the same names are theirs to use.
    assert.isTrue(Either.isRight(parseRunId("build.lock")))
  })

  it("refuses names Windows cannot store: a trailing dot or space, reserved device names", () => {
    assert.strictEqual(idProblem(" "), "a trailing dot or space is not allowed (Windows cannot store it).")
    assert.strictEqual(idProblem("x."), "a trailing dot or space is not allowed (Windows cannot store it).")
    assert.strictEqual(idProblem("x "), "a trailing dot or space is not allowed (Windows cannot store it).")
    assert.strictEqual(idProblem("a.b."), "a trailing dot or space is not allowed (Windows cannot store it).")
    for (const name of ["CON", "con", "PRN", "AUX", "NUL", "Nul", "COM1", "com9", "LPT1", "lpt9", "COM¹", "LPT³", "CON.txt", "nul.tar.gz", "AUX "]) {
      const expected = name.endsWith(" ")
        ? "a trailing dot or space is not allowed (Windows cannot store it)."
        : `"${name.split(".")[0]}" is a device name Windows reserves.`
      assert.strictEqual(idProblem(name), expected, name)
    }
    assert.strictEqual(idProblem("COM0"), undefined)
    assert.strictEqual(idProblem("CONX"), undefined)
    assert.strictEqual(idProblem("xCON"), undefined)
    assert.strictEqual(
      taskError("CON").message,
      `Invalid task ID "CON": "CON" is a device name Windows reserves. ${idFixHint}`
    )
  })

  it("idMessage formats without the hint", () => {
    assert.strictEqual(idMessage("run", "a*", "character \"*\" is not allowed."), "Invalid run ID \"a*\": character \"*\" is not allowed.")
    assert.strictEqual(idMessage("task", "", "value must be a non-empty string."), "Invalid task ID: value must be a non-empty string.")
  })

  it("TaskId and RunId schemas apply ID-1 with its message", () => {
    assert.deepStrictEqual(Schema.decodeUnknownEither(TaskId)("task-1"), Either.right(TaskId.make("task-1")))
    const bad = Schema.decodeUnknownEither(RunId)("../x")
    if (Either.isRight(bad)) return assert.fail("../x must not decode as a RunId")
    assert.include(bad.left.message, "Invalid run ID \"../x\": leading dots are not allowed.")
    const badTask = Schema.decodeUnknownEither(TaskId)("")
    if (Either.isRight(badTask)) return assert.fail("an empty task id must not decode")
    assert.include(badTask.left.message, "Invalid task ID: value must be a non-empty string.")
    assert.throws(() => TaskId.make("a/b"))
  })

  it("resolveTaskId: --task wins over MCP_RUNNER_TASK_ID, which must still be valid (ENV-3, ENV-4)", () => {
    assert.deepStrictEqual(resolveTaskId("from-env", "from-flag"), Either.right(TaskId.make("from-flag")))
    assert.deepStrictEqual(resolveTaskId("from-env", undefined), Either.right(TaskId.make("from-env")))
    assert.deepStrictEqual(resolveTaskId(undefined, undefined), Either.right(defaultTaskId))
    assert.deepStrictEqual(resolveTaskId(undefined, "flag-only"), Either.right(TaskId.make("flag-only")))
    const badEnv = resolveTaskId("../x", "fine")
    if (Either.isRight(badEnv)) return assert.fail("an invalid MCP_RUNNER_TASK_ID must fail even with --task")
    assert.strictEqual(badEnv.left.source, "MCP_RUNNER_TASK_ID")
    const badFlag = resolveTaskId("fine", "a/b")
    if (Either.isRight(badFlag)) return assert.fail("an invalid --task must fail")
    assert.isUndefined(badFlag.left.source)
    assert.strictEqual(badFlag.left.value, "a/b")
  })

  it("defaults the task to 0101", () => {
    assert.strictEqual(defaultTaskId, "0101")
  })
})

describe("ID-2 and ID-5", () => {
  it("builds run ids from the timestamp and 8 hex digits", () => {
    assert.strictEqual(makeRunId(Date.UTC(2025, 10, 24, 0, 30, 9, 180), "33452943"), "2025-11-24T00-30-09-180Z-33452943")
  })

  it("pads milliseconds and produces a valid run id", () => {
    const id = makeRunId(Date.UTC(2026, 0, 2, 3, 4, 5, 6), "0a1b2c3d")
    assert.strictEqual(id, "2026-01-02T03-04-05-006Z-0a1b2c3d")
    assert.match(id, /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-[0-9a-f]{8}$/)
    assert.notInclude(id, ":")
    assert.notInclude(id, ".")
    assert.deepStrictEqual(parseRunId(id), Either.right(id))
    assert.strictEqual(makeRunId(0, "ffffffff"), "1970-01-01T00-00-00-000Z-ffffffff")
  })

  it("slugs stage ids for file names", () => {
    assert.strictEqual(slugify("  Build & Test!! "), "Build-Test")
    assert.strictEqual(slugify("///"), "command")
    assert.strictEqual(slugify("x".repeat(100)).length, 80)
  })

  it("keeps letters and digits, turns every other run into one dash, strips edges", () => {
    assert.strictEqual(slugify("spec-guard"), "spec-guard")
    assert.strictEqual(slugify("design_toolkit.extract"), "design-toolkit-extract")
    assert.strictEqual(slugify("a---b__c"), "a-b-c")
    assert.strictEqual(slugify("--lead and trail--"), "lead-and-trail")
    assert.strictEqual(slugify("Ünïcode stage"), "n-code-stage")
    assert.strictEqual(slugify("CamelCase42"), "CamelCase42")
    assert.strictEqual(slugify("\tTabbed\n"), "Tabbed")
  })

  it("falls back to `command` when nothing is left", () => {
    assert.strictEqual(slugify(""), "command")
    assert.strictEqual(slugify("   "), "command")
    assert.strictEqual(slugify("ßøå"), "command")
  })

  it("cuts at 80 characters", () => {
    assert.strictEqual(slugify("ab".repeat(60)), "ab".repeat(40))
    assert.strictEqual(slugify(`${"a".repeat(90)}!`), "a".repeat(80))
    assert.strictEqual(slugify(`!!${"b".repeat(80)}!!`), "b".repeat(80))
    // A cut that lands on a separator does not leave a trailing dash.
    assert.strictEqual(slugify(`${"c".repeat(79)} tail`), "c".repeat(79))
  })
})
