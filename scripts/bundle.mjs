// Bundles the CLI into one file (DECISIONS S-4; unbundled, the Effect stack costs ~600 ms of
// start-up), installs the executable that loads it through V8's code cache, and fills that cache.
import { execFileSync } from "node:child_process"
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { build } from "esbuild"

// @effect/cli can read option values from YAML/TOML/INI files; we never use that, and the three
// parsers are a fifth of the bundle.
const stubConfigParsers = {
  name: "stub-config-parsers",
  setup(b) {
    b.onResolve({ filter: /^(yaml|toml|ini)$/ }, (args) => ({ path: args.path, namespace: "stub" }))
    b.onLoad({ filter: /.*/, namespace: "stub" }, (args) => ({
      contents: `export const parse = () => { throw new Error("${args.path} files are not supported") }`,
      loader: "js"
    }))
  }
}

await build({
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/bin/cli.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  minify: true,
  legalComments: "none",
  plugins: [stubConfigParsers],
  // The built-in pipelines are found relative to the module (src/layers/PipelineCatalog.ts).
  define: { "import.meta.url": "__bundleUrl" },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" }
})

const bin = "dist/bin/codex-orchestrator.mjs"
copyFileSync("scripts/bin-loader.mjs", bin)
chmodSync(bin, 0o755)

// Warm the code cache with a representative command that writes nothing.
const cwd = mkdtempSync(join(tmpdir(), "codex-orchestrator-cache-"))
try {
  rmSync("dist/bin/cli.cjs.cache", { force: true })
  execFileSync(process.execPath, [join(process.cwd(), bin), "plan", "diagnostics", "--format", "json"], {
    cwd,
    env: { ...process.env, CODEX_ORCHESTRATOR_WRITE_CODE_CACHE: "1", MCP_RUNNER_TASK_ID: "" },
    stdio: "ignore"
  })
} finally {
  rmSync(cwd, { recursive: true, force: true })
}
