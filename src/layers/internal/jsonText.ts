/** A JSON file's text as we write every one: 2-space indentation and a trailing newline. */
export const jsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`
