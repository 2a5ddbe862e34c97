/**
 * Reading `design.config.yaml` (SPEC DES-1): YAML syntax errors and bad fields are all listed in one
 * InvalidFile (exit 2). Shared by the design steps and the pipeline catalog (DES-2 activation).
 */
import { Either, Schema } from "effect"
import { DesignConfigFile, type DesignSettings, duplicateBreakpointIssues, resolveDesignConfig } from "../../domain/DesignConfig.js"
import { formatIssues, InvalidFile } from "../../domain/FileErrors.js"
import { loadYaml } from "./yamlParser.js"

/** Parses YAML text and checks it against the schema; YAML errors and bad fields are all listed. */
export const parseDesignConfig = (text: string, shown: string): Either.Either<DesignSettings, InvalidFile> => {
  const document = loadYaml().parseDocument(text)
  if (document.errors.length > 0) {
    const issues = document.errors.map((error) => {
      const line = error.linePos?.[0]
      const first = (error.message.split("\n")[0] ?? error.code).replace(/ at line \d+, column \d+:?$/, "")
      return `${line === undefined ? "" : `line ${line.line}: `}${first}`
    })
    return Either.left(new InvalidFile({ path: shown, issues, hint: "Fix the YAML syntax." }))
  }
  const data: unknown = document.toJS()
  const decoded = Schema.decodeUnknownEither(DesignConfigFile, { errors: "all", onExcessProperty: "ignore" })(data ?? {})
  if (Either.isLeft(decoded)) {
    return Either.left(new InvalidFile({ path: shown, issues: formatIssues(decoded.left), hint: "Fix the fields listed." }))
  }
  const duplicates = duplicateBreakpointIssues(decoded.right)
  if (duplicates.length > 0) return Either.left(new InvalidFile({ path: shown, issues: duplicates }))
  return Either.right(resolveDesignConfig(decoded.right))
}

