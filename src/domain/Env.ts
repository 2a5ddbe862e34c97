/** Environment value parsing shared by every setting (SPEC ENV-6). */

/** True iff the trimmed, lower-cased value is one of 1, true, yes, on. Unset or anything else is false. */
export const isTruthy = (value: string | undefined): boolean =>
  value !== undefined && ["1", "true", "yes", "on"].includes(value.trim().toLowerCase())
