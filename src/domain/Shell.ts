/** Building `sh -c` command lines from argument vectors (the ProcessRunner runs commands through a shell). */

/** One shell word: kept bare when it is plainly safe, else single-quoted with each embedded quote escaped. */
export const shellQuote = (word: string): string =>
  /^[A-Za-z0-9_./=:@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`

/** A command line that runs exactly `argv`, whatever its words contain. */
export const shellCommand = (argv: ReadonlyArray<string>): string => argv.map(shellQuote).join(" ")
