#!/usr/bin/env node
// The `codex-orchestrator` executable. It runs the bundled CLI (cli.cjs) through V8's code cache
// (cli.cjs.cache, made by `npm run build`), so a start skips parsing and compiling ~1 MB of
// JavaScript: measured ~140 ms less start-up. A cache V8 rejects (another Node version) is ignored.
// A plain `status` command line runs on a bundle of its own (status.cjs: no @effect/cli, no engine),
// which starts ~50 ms faster; status-args.cjs (1 KB, no Effect) says which lines are
// plain. Any other (--help, a usage error) goes to the full CLI, which parses it with @effect/cli.
// CommonJS, not ESM: Node starts a CommonJS main ~15 ms sooner (no ES module loader to set up).
"use strict"
const { readFileSync, renameSync, writeFileSync } = require("node:fs")
const Module = require("node:module")
const { delimiter, join } = require("node:path")
const { setFlagsFromString } = require("node:v8")
const { Script } = require("node:vm")

// V8 doubles the young generation each time a scavenge finds much of it alive, up to 16 MiB a
// semi-space (two of them, plus the copy being promoted): a one-stage `start` peaked at ~100 MiB RSS
// of which ~25 MiB was that growth, and an output-heavy run kept its pipes' dead read buffers
// until the larger space filled (issue 19). Growth factor 1 keeps the initial semi-space: measured
// 100 -> 75 MiB for `start` of one stage, 157 -> 120 MiB for 200 MiB of output, the same CPU time.
// Set only once the code cache has been read: V8 rejects a cache made under other flags, so the
// cache-writing run leaves the flags as they are.
const youngGeneration = "--semi-space-growth-factor=1"

/** Runs one bundle of this folder as a CommonJS module, through its code cache. */
const run = (name) => {
  const bundle = join(__dirname, name)
  const cacheFile = `${bundle}.cache`
  let cachedData
  try {
    cachedData = readFileSync(cacheFile)
  } catch {
    cachedData = undefined
  }
  const script = new Script(Module.wrap(readFileSync(bundle, "utf8")), { filename: bundle, cachedData })
  if (process.env.CODEX_ORCHESTRATOR_WRITE_CODE_CACHE === "1") {
    // At exit the cache also holds every function compiled while running, not only the top level.
    process.once("exit", () => {
      const tmp = `${cacheFile}.${process.pid}.tmp`
      writeFileSync(tmp, script.createCachedData())
      renameSync(tmp, cacheFile)
    })
  } else {
    setFlagsFromString(youngGeneration)
  }
  const bundleModule = { exports: {} }
  script.runInThisContext()(bundleModule.exports, Module.createRequire(bundle), bundleModule, bundle, __dirname)
}

// Stages may call `codex-orchestrator` (the built-in pipelines' guard and review stages do): this
// very executable comes first on their PATH (path/codex-orchestrator, made by the build), whatever
// started it (npx, a global install, node dist/bin/codex-orchestrator.cjs).
process.env.PATH = `${join(__dirname, "path")}${delimiter}${process.env.PATH ?? ""}`

const plainStatus = process.argv[2] === "status" &&
  require("./status-args.cjs").parseStatusArgs(process.argv.slice(3)) !== undefined
run(plainStatus ? "status.cjs" : "cli.cjs")
