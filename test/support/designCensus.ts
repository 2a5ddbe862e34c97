/** A computed-style census (src/domain/DesignTokens.ts) for the design tests: every count empty but what a test gives. */
import type { Census } from "../../src/domain/DesignTokens.js"

export const census = (partial: Partial<Census>): Census => ({
  colors: {},
  backgrounds: {},
  borders: {},
  fontFamilies: {},
  fontSizes: {},
  fontWeights: {},
  spacing: {},
  radii: {},
  ...partial
})
