/** The kinds of settings variables and their error sentences to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { type Config, ConfigError, ConfigProvider, Effect, Either, Option } from "effect"
import {
  decodeSettings,
  flag,
  given,
  httpUrl,
  invalidSettingOf,
  invalidValue,
  nonNegativeNumber,
  parsed,
  parsedOr,
  positiveInteger,
  text,
  trimmedText,
  wholeNumberBetween
} from "../../src/domain/SettingsKinds.js"

const run = <A>(config: Config.Config<A>, env: Record<string, string>) =>
  Effect.runSync(Effect.either(decodeSettings(config).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)), { pathDelim: "_" }))
  )))

const value = <A>(config: Config.Config<A>, env: Record<string, string>): A => Either.getOrThrow(run(config, env))

const detail = <A>(config: Config.Config<A>, env: Record<string, string>) =>
  Either.match(run(config, env), { onLeft: (error) => [error.variable, error.message], onRight: () => [] })

describe("invalidSettingOf, exactly", () => {
  it("takes the first problem of an And or an Or, and keeps a message that already names the variable", () => {
    const first = ConfigError.InvalidData(["A", "B"], "A_B is wrong.")
    const second = ConfigError.InvalidData(["C"], "C is wrong.")
    for (const error of [ConfigError.And(first, second), ConfigError.Or(first, second)]) {
      const setting = invalidSettingOf(error)
      assert.strictEqual(setting.variable, "A_B")
      assert.strictEqual(setting.message, "A_B is wrong.")
      assert.strictEqual(setting.detail, "A_B is wrong.")
    }
  })

  it("puts the variable in front of a message that does not start with it", () => {
    const setting = invalidSettingOf(ConfigError.MissingData(["X", "Y"], "source unreadable"))
    assert.strictEqual(setting.variable, "X_Y")
    assert.strictEqual(setting.message, "X_Y: source unreadable")
  })
})

describe("kinds of variables, exactly", () => {
  it("given keeps an empty value; text and trimmedText drop empty and blank values", () => {
    assert.deepStrictEqual(value(given("V"), { V: "" }), Option.some(""))
    assert.deepStrictEqual(value(given("V"), {}), Option.none())
    assert.deepStrictEqual(value(text("V"), { V: "" }), Option.none())
    assert.deepStrictEqual(value(text("V"), { V: " a " }), Option.some(" a "))
    assert.deepStrictEqual(value(trimmedText("V"), { V: "   " }), Option.none())
    assert.deepStrictEqual(value(trimmedText("V"), { V: " a " }), Option.some("a"))
    assert.deepStrictEqual(value(trimmedText("V"), {}), Option.none())
  })

  it("flag is on for 1, true, yes, on in any case and spacing; off otherwise or unset", () => {
    assert.isTrue(value(flag("F"), { F: " Yes " }))
    assert.isTrue(value(flag("F"), { F: "1" }))
    assert.isFalse(value(flag("F"), { F: "no" }))
    assert.isFalse(value(flag("F"), {}))
  })

  it("invalidValue words the value, what is expected, the note and the default", () => {
    const withDefault = invalidValue("N", "x", "a positive integer", "5", " (a note)")
    assert.strictEqual(withDefault.message, "N=\"x\" is not a positive integer (a note). Set N to a positive integer or unset it (default 5).")
    assert.deepStrictEqual(withDefault._op === "InvalidData" ? withDefault.path : [], ["N"])
    const without = invalidValue("N", "x", "a positive integer", undefined)
    assert.strictEqual(without.message, "N=\"x\" is not a positive integer. Set N to a positive integer or unset it.")
  })

  it("parsed: blank is None, a good value is Some, a bad one the sentence with its fallback", () => {
    assert.deepStrictEqual(value(parsed("N", positiveInteger), { N: " " }), Option.none())
    assert.deepStrictEqual(value(parsed("N", positiveInteger), { N: " 12 " }), Option.some(12))
    assert.deepStrictEqual(detail(parsed("N", positiveInteger, "3"), { N: "x" }), [
      "N",
      "N=\"x\" is not a positive integer. Set N to a positive integer or unset it (default 3)."
    ])
    assert.deepStrictEqual(detail(parsed("N", positiveInteger), { N: "0" }), [
      "N",
      "N=\"0\" is not a positive integer. Set N to a positive integer or unset it."
    ])
  })

  it("parsedOr uses the fallback when unset and names it in the error", () => {
    assert.strictEqual(value(parsedOr("N", positiveInteger, 7), {}), 7)
    assert.strictEqual(value(parsedOr("N", positiveInteger, 7), { N: "9" }), 9)
    assert.deepStrictEqual(detail(parsedOr("N", positiveInteger, 7), { N: "-1" }), [
      "N",
      "N=\"-1\" is not a positive integer. Set N to a positive integer or unset it (default 7)."
    ])
  })
})

describe("formats, exactly", () => {
  it("positiveInteger: whole digits only, above 0, safe", () => {
    assert.strictEqual(positiveInteger.expected, "a positive integer")
    assert.strictEqual(positiveInteger.parse("1"), 1)
    assert.strictEqual(positiveInteger.parse("0"), undefined)
    assert.strictEqual(positiveInteger.parse("1.5"), undefined)
    assert.strictEqual(positiveInteger.parse("x1"), undefined)
    assert.strictEqual(positiveInteger.parse("1x"), undefined)
    assert.strictEqual(positiveInteger.parse("9007199254740993"), undefined)
  })

  it("nonNegativeNumber: digits with an optional fraction, or a bare fraction", () => {
    assert.strictEqual(nonNegativeNumber.expected, "a number ≥ 0")
    assert.strictEqual(nonNegativeNumber.parse("0"), 0)
    assert.strictEqual(nonNegativeNumber.parse("2."), 2)
    assert.strictEqual(nonNegativeNumber.parse("2.5"), 2.5)
    assert.strictEqual(nonNegativeNumber.parse(".5"), 0.5)
    assert.strictEqual(nonNegativeNumber.parse(".25"), 0.25)
    assert.strictEqual(nonNegativeNumber.parse("-1"), undefined)
    assert.strictEqual(nonNegativeNumber.parse("1e3"), undefined)
    assert.strictEqual(nonNegativeNumber.parse("x2"), undefined)
    assert.strictEqual(nonNegativeNumber.parse("."), undefined)
  })

  it("wholeNumberBetween: both bounds included", () => {
    const format = wholeNumberBetween(2, 4)
    assert.strictEqual(format.expected, "a whole number from 2 to 4")
    assert.deepStrictEqual(["1", "2", "4", "5", "x"].map(format.parse), [undefined, 2, 4, undefined, undefined])
  })

  it("httpUrl: http and https only, the value as given", () => {
    assert.strictEqual(httpUrl.expected, "an http(s) URL")
    assert.strictEqual(httpUrl.parse("http://a.test/x"), "http://a.test/x")
    assert.strictEqual(httpUrl.parse("https://a.test"), "https://a.test")
    assert.strictEqual(httpUrl.parse("ftp://a.test"), undefined)
    assert.strictEqual(httpUrl.parse("not a url"), undefined)
  })
})
