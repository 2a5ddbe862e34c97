/**
 * CP-4: validating a run request. Every problem is reported at once, as a `$`-style path, the value
 * found there and what the rule wants, so the drift report and the user see the same list.
 */
import { Either, ParseResult, Schema, SchemaAST as AST } from "effect"
import { RunRequestV2 } from "./RunRequest.js"

/** CP-4: one validation problem. `path` is `$`-style (`$.pipeline.stages[0].id`). */
export const ValidationIssue = Schema.Struct({
  path: Schema.String,
  message: Schema.String,
  value: Schema.optionalWith(Schema.Unknown, { exact: true }),
  expected: Schema.optionalWith(Schema.String, { exact: true })
})
export type ValidationIssue = typeof ValidationIssue.Type

/** `["pipeline", "stages", 0, "id"]` → `$.pipeline.stages[0].id`. */
export const jsonPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (acc, key) =>
      typeof key === "number"
        ? `${acc}[${key}]`
        : typeof key === "string" && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)
        ? `${acc}.${key}`
        : `${acc}[${JSON.stringify(String(key))}]`,
    "$"
  )

const valueAt = (input: unknown, path: ReadonlyArray<PropertyKey>): unknown =>
  path.reduce<unknown>(
    (value, key): unknown => (typeof value === "object" && value !== null ? Reflect.get(value, key) : undefined),
    input
  )

/** What a rule wants, in words: its description, a literal's value, or the kind of value. */
const expectedOf = (issue: ParseResult.ParseIssue): string | undefined => {
  if (!("ast" in issue)) return undefined
  // A missing key reports its property signature; what is expected is the property's type.
  const type: AST.AST = issue.ast instanceof AST.Type ? issue.ast.type : issue.ast
  const description = AST.getDescriptionAnnotation(type)
  if (description._tag === "Some") return description.value
  switch (type._tag) {
    case "Literal":
      return String(type.literal)
    case "Union":
      return type.types.map((member) => (AST.isLiteral(member) ? String(member.literal) : String(member))).join(" | ")
    case "TypeLiteral":
      return "an object"
    case "TupleType":
      return "an array"
    // Strings, numbers and booleans never get here: their keywords carry a description ("a string").
    default:
      return String(type)
  }
}

interface Leaf {
  readonly path: ReadonlyArray<PropertyKey>
  readonly issue: ParseResult.ParseIssue
}

/**
 * The failures a ParseIssue tree ends in, each with its path. A union of literals (an enum) is one
 * failure, not one per member, and a struct-level rule (maxInstances ≥ minInstances) points at its field.
 */
const leavesOf = (issue: ParseResult.ParseIssue, path: ReadonlyArray<PropertyKey>): ReadonlyArray<Leaf> => {
  switch (issue._tag) {
    case "Pointer":
      return leavesOf(issue.issue, [...path, ...(Array.isArray(issue.path) ? issue.path : [issue.path])])
    case "Transformation":
      return leavesOf(issue.issue, path)
    case "Refinement":
      return issue.kind === "From" || issue.issue._tag === "Pointer" ? leavesOf(issue.issue, path) : [{ path, issue }]
    case "Composite":
      if (AST.isUnion(issue.ast)) return [{ path, issue }]
      return (Array.isArray(issue.issues) ? issue.issues : [issue.issues]).flatMap((inner) => leavesOf(inner, path))
    default:
      return [{ path, issue }]
  }
}

const describe = (value: unknown): string => {
  // JSON has no undefined, a symbol or a function: String names them ("undefined", "Symbol(v)").
  const json = JSON.stringify(value)
  return json === undefined ? String(value) : json.length > 80 ? `${json.slice(0, 79)}…` : json
}

/**
 * CP-4: every problem of a run request, all at once (`errors: "all"`), empty when it is valid.
 * Messages come from ArrayFormatter; `value` is what the request holds at the path (absent when
 * missing), `expected` what the rule wants.
 */
export const validateRunRequest = (request: unknown): ReadonlyArray<ValidationIssue> =>
  Either.match(Schema.decodeUnknownEither(RunRequestV2, { errors: "all", onExcessProperty: "ignore" })(request), {
    onRight: () => [],
    onLeft: (error) =>
      leavesOf(error.issue, []).flatMap(({ issue, path }) => {
        const value = valueAt(request, path)
        const expected = expectedOf(issue)
        // A rule's own message (a refinement's, a struct-level filter's) is kept; plain type mismatches
        // are worded from `expected`, so a struct reads "an object", not its whole type.
        const messages = (issue._tag === "Composite" || (issue._tag === "Type" && issue.message === undefined))
          ? [`Expected ${expected ?? "another value"}, actual ${describe(value)}`]
          : ParseResult.ArrayFormatter.formatIssueSync(issue).map((formatted) => formatted.message)
        return messages.map((message) => ({
          path: jsonPath(path),
          message,
          ...(value === undefined ? {} : { value }),
          ...(expected === undefined ? {} : { expected })
        }))
      })
  })
