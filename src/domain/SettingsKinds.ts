/**
 * The vocabulary of settings: the error a bad value becomes, the decoder, and the kinds of variables
 * (flag, text, parsed formats) that src/domain/Settings.ts builds its sections from. Kept apart so
 * the sections module stays a readable list of what the orchestrator reads.
 */
import { Config, ConfigError, Effect, Either, Option, Schema } from "effect"
import { isTruthy } from "./Env.js"

// ---------------------------------------------------------------------------------------------
// The error
// ---------------------------------------------------------------------------------------------

/** A variable whose value cannot be used. `message` names the variable, the value and what is expected. */
export class InvalidSetting extends Schema.TaggedError<InvalidSetting>()("InvalidSetting", {
  variable: Schema.String,
  /** What went wrong and how to fix it, one sentence or two. */
  detail: Schema.String
}) {
  override get message() {
    return this.detail
  }
}

/** The first problem in a ConfigError tree, as the variable it is about and the sentence to show. */
const firstProblem = (error: ConfigError.ConfigError): { readonly path: ReadonlyArray<string>; readonly message: string } => {
  switch (error._op) {
    case "And":
    case "Or":
      return firstProblem(error.left)
    default:
      return { path: error.path, message: error.message }
  }
}

/** One InvalidSetting for a ConfigError: its first problem. */
export const invalidSettingOf = (error: ConfigError.ConfigError): InvalidSetting => {
  const { message, path } = firstProblem(error)
  const variable = path.join("_")
  // Our descriptors write the whole sentence; anything else (an unreadable source) gets the variable in front.
  return new InvalidSetting({ variable, detail: message.startsWith(variable) ? message : `${variable}: ${message}` })
}

/** Decodes a section from the current ConfigProvider; a bad value is one InvalidSetting. */
export const decodeSettings = <A>(section: Config.Config<A>): Effect.Effect<A, InvalidSetting> =>
  Effect.mapError(section, invalidSettingOf)

// ---------------------------------------------------------------------------------------------
// Kinds of variables
// ---------------------------------------------------------------------------------------------

/** The variable as given, empty included; unset is None. */
export const given = (name: string) => Config.option(Config.string(name))

/** Unset or empty is None (DECISIONS D-3); otherwise the value as given. */
export const text = (name: string) => Config.map(given(name), Option.filter((value) => value.length > 0))

/** Trimmed; unset or blank is None. */
export const trimmedText = (name: string) =>
  Config.map(given(name), (value) => Option.filter(Option.map(value, (v) => v.trim()), (v) => v.length > 0))

/** ENV-6: on when the trimmed, lower-cased value is 1, true, yes or on; anything else is off. */
export const flag = (name: string) => Config.map(given(name), (value) => isTruthy(Option.getOrUndefined(value)))

/** What a value must look like, in the words the error message uses, and how to read it. */
export interface Format<A> {
  readonly expected: string
  readonly parse: (value: string) => A | undefined
}

/** The error of a value that does not parse: the message says what was given, what is expected and how to fix it. */
export const invalidValue = (name: string, value: string, expected: string, fallback: string | undefined, note = "") =>
  ConfigError.InvalidData(
    [name],
    `${name}=${JSON.stringify(value)} is not ${expected}${note}. Set ${name} to ${expected} or ` +
      `${fallback === undefined ? "unset it" : `unset it (default ${fallback})`}.`
  )

/**
 * A variable in `format`, trimmed: unset or blank is None; anything else must parse, or decoding
 * fails with the message shown to the user.
 */
export const parsed = <A>(name: string, format: Format<A>, fallback?: string) =>
  Config.mapOrFail(trimmedText(name), (value) => {
    if (Option.isNone(value)) return Either.right(Option.none<A>())
    const result = format.parse(value.value)
    return result === undefined
      ? Either.left(invalidValue(name, value.value, format.expected, fallback))
      : Either.right(Option.some(result))
  })

/** A parsed variable with a default for unset or blank. */
export const parsedOr = <A>(name: string, format: Format<A>, fallback: A) =>
  Config.map(parsed(name, format, String(fallback)), Option.getOrElse(() => fallback))

const wholeNumber = (value: string) => (/^\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : undefined)

export const positiveInteger: Format<number> = {
  expected: "a positive integer",
  parse: (value) => {
    const n = wholeNumber(value)
    return n !== undefined && n > 0 ? n : undefined
  }
}

export const nonNegativeNumber: Format<number> = {
  expected: "a number ≥ 0",
  // Finite only: enough digits make Number answer Infinity, which JSON writes as null.
  parse: (value) => (/^(\d+(\.\d*)?|\.\d+)$/.test(value) && Number.isFinite(Number(value)) ? Number(value) : undefined)
}

export const wholeNumberBetween = (min: number, max: number): Format<number> => ({
  expected: `a whole number from ${min} to ${max}`,
  parse: (value) => {
    const n = wholeNumber(value)
    return n !== undefined && n >= min && n <= max ? n : undefined
  }
})

export const httpUrl: Format<string> = {
  expected: "an http(s) URL",
  parse: (value) =>
    Either.match(Either.try(() => new URL(value)), {
      onLeft: () => undefined,
      onRight: (url) => (url.protocol === "http:" || url.protocol === "https:" ? value : undefined)
    })
}
