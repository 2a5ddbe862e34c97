import { Orchestrator } from "codex-orchestrator"
import { ci } from "./pipelines.js"

// One orchestrator per process: the app's layers are built on first use and shared.
const orchestrator = Orchestrator.createOrchestrator({ settings: { repoRoot: process.cwd() }, pipelines: [ci], logLevel: "Warning" })
try {
  // As with EventBus.on, `start` waits for this handler (up to the subscriber grace).
  const stop = await orchestrator.on("stage:completed", (event) => {
    console.log(`stage ${event.stageId}: ${event.status}`)
  })
  const { layout, manifest } = await orchestrator.start({ pipelineId: "ci", taskId: "demo" })
  console.log(`${manifest.status}: ${layout.manifest}`)
  await stop()
  // A failure rejects with the engine's own tagged error.
  await orchestrator.start({ pipelineId: "nope", taskId: "demo" }).catch((error: { readonly _tag: string }) => {
    console.log(`rejected: ${error._tag}`)
  })
} finally {
  // Interrupts what still runs, closes the subscriptions, releases the app's resources.
  await orchestrator.dispose()
}
