/**
 * Loads the Ink view on first use, so that Ink and React are read only when a HUD is shown. The CLI
 * bundle replaces this module (scripts/bundle.mjs): there the view is a bundle of its own, loaded
 * through a small CommonJS file, since the CLI bundle runs as a vm Script where `import()` is not
 * available.
 */
export const loadHudView = (): Promise<typeof import("./HudView.js")> => import("./HudView.js")
