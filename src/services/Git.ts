import { Context, type Effect, Schema } from "effect"

/** What one git command printed and how it exited. */
export interface GitResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

/** git could not be run at all (not installed, killed): not the same as git saying no. */
export class GitUnavailable extends Schema.TaggedError<GitUnavailable>()("GitUnavailable", {
  args: Schema.Array(Schema.String),
  reason: Schema.String,
  cause: Schema.Defect
}) {
  override get message() {
    return `Could not run git ${this.args.join(" ")}: ${this.reason}`
  }
}

/**
 * Runs git in a folder and returns what it printed. A non-zero exit is a result, not an error: the
 * callers decide what "no such ref" or "not a repository" means for them. Used by the guards and
 * the review hand-off, whose git output is small (names and counts, never file contents).
 */
export class Git extends Context.Tag("orchestrator/Git")<
  Git,
  {
    readonly run: (args: ReadonlyArray<string>, cwd: string) => Effect.Effect<GitResult, GitUnavailable>
  }
>() {}
