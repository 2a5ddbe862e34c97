/**
 * Colour only where a person looks at a terminal (issue 16 item 23): @effect/cli renders help and its
 * usage errors with ANSI escapes whatever the output is, so the CLI's edge strips them when colour is
 * not wanted. The conventions: `NO_COLOR` set and not empty turns colour off (no-color.org);
 * `FORCE_COLOR` set to anything but `0`/`false` turns it on even for a pipe; otherwise a stream gets
 * colour only when it is a terminal.
 */

/** What the environment says about colour; a stream's own TTY-ness decides when it says nothing. */
export interface ColourSettings {
  readonly noColor: boolean
  readonly forceColor: boolean
}

/** FORCE_COLOR's off spellings (the convention of chalk and Node's own tty module). */
const forceOff = new Set(["0", "false"])

/** The settings from the two variables as given (undefined when unset). */
export const colourSettingsOf = (noColor: string | undefined, forceColor: string | undefined): ColourSettings => ({
  noColor: noColor !== undefined && noColor.length > 0,
  forceColor: forceColor !== undefined && !forceOff.has(forceColor.trim().toLowerCase())
})

/** Whether a stream gets colour: NO_COLOR wins over FORCE_COLOR, which wins over the stream being a terminal. */
export const colourWanted = (settings: ColourSettings, isTerminal: boolean): boolean =>
  settings.noColor ? false : settings.forceColor || isTerminal

const esc = String.fromCharCode(0x1b)
const bel = String.fromCharCode(0x07)
/** CSI sequences (colours, cursor moves) and OSC sequences (titles, links), as terminals read them. */
const escapes = new RegExp(`${esc}\\[[0-?]*[ -/]*[@-~]|${esc}\\][^${bel}${esc}]*(?:${bel}|${esc}\\\\)`, "g")

/** `text` without terminal escape sequences. */
export const stripAnsi = (text: string): string => text.replace(escapes, "")
