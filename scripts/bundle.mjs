// Bundles the CLI into one file (DECISIONS S-4): the unbundled Effect stack costs ~600 ms of start-up.
import { build } from "esbuild"

await build({
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/bin/codex-orchestrator.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  legalComments: "none",
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module';const require = __createRequire(import.meta.url);"
  }
})

import { chmodSync } from "node:fs"
chmodSync("dist/bin/codex-orchestrator.mjs", 0o755)
