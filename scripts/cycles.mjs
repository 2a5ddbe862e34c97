// Fails when src/ has an import cycle, type-only imports included (a type loop still ties two
// modules together). madge resolves our `.js` specifiers to the `.ts` files through tsconfig.json;
// an import it cannot resolve fails the check too, so a cycle cannot hide behind a missed file.
import madge from "madge"

const graph = await madge("src", { fileExtensions: ["ts"], tsConfig: "tsconfig.json" })
const cycles = graph.circular()
// Packages whose package.json has only `exports` (no `main`) are not resolved by madge; being outside
// src/, they cannot be part of a cycle. Each is named here, so any other unresolved import still fails.
const exportsOnlyPackages = new Set(["ink"])
const skipped = graph.warnings().skipped.filter((file) => !exportsOnlyPackages.has(file))

for (const cycle of cycles) console.error(`import cycle: ${[...cycle, cycle[0]].join(" > ")}`)
for (const file of skipped) console.error(`unresolved import: ${file}`)
if (cycles.length > 0 || skipped.length > 0) process.exit(1)
console.log(`no import cycles in ${Object.keys(graph.obj()).length} modules of src/`)
