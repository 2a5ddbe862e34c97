import type { Pipeline } from "codex-orchestrator"

/** A pipeline defined in code: merged after the repository's codex.orchestrator.json (which wins on the same id). */
export const ci: Pipeline.PipelineDefinition = {
  id: "ci",
  title: "CI",
  stages: [
    { kind: "command", id: "build", title: "Build", command: "echo built" },
    {
      kind: "command",
      id: "test",
      title: "Test",
      command: "echo tested",
      retry: { attempts: 3, initialDelayMs: 1000, factor: 2, maxDelayMs: 10000 }
    }
  ]
}
