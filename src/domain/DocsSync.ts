/**
 * `guard docs --sync --task <id>` (SPEC GRD-4), pure: a task's checklist, mirrored from
 * `tasks/tasks-<id>-<slug>.md` into `.agent/task/<id>-<slug>.md` and a managed block of docs/TASKS.md,
 * so the three places agents and reviewers read never disagree.
 */

/** The lines after a `## Checklist` heading, or undefined when the file has none. */
export const checklistOf = (source: string): string | undefined => {
  const lines = source.split("\n")
  const start = lines.findIndex((line) => line.trim() === "## Checklist")
  if (start < 0) return undefined
  return lines.slice(start + 1).join("\n").replace(/^\s*\n/, "").trimEnd()
}

/** The task's title from a first line `# Task <id> — <title>`, else the task key. */
const titleOf = (source: string, id: string, key: string): string => {
  const first = (source.split("\n")[0] ?? "").trim()
  const prefix = `# Task ${id} — `
  return first.startsWith(prefix) ? first.slice(prefix.length).trim() : key
}

/** `.agent/task/<key>.md`: the checklist with its `###` groups promoted to `##`. */
export const renderAgentMirror = (id: string, key: string, source: string, checklist: string): string =>
  [
    `# Task Checklist — ${titleOf(source, id, key)} (${id})`,
    "",
    `> Set \`MCP_RUNNER_TASK_ID=${key}\` for orchestrator commands. Mirror status with \`tasks/tasks-${key}.md\` and ` +
    `\`docs/TASKS.md\`. Flip \`[ ]\` to \`[x]\` only with manifest evidence (e.g., \`.runs/${key}/cli/<run-id>/manifest.json\`).`,
    "",
    checklist.split("\n").map((line) => (line.startsWith("### ") ? `## ${line.slice(4)}` : line)).join("\n"),
    ""
  ].join("\n")

const blockBody = (key: string, checklist: string): string =>
  [
    "## Checklist Mirror",
    `Mirror status with \`tasks/tasks-${key}.md\` and \`.agent/task/${key}.md\`. Keep \`[ ]\` until evidence is recorded.`,
    "",
    checklist
  ].join("\n")

/**
 * docs/TASKS.md with the task's managed block (between `<!-- docs-sync:begin <key> -->` and its end
 * marker) replaced, or appended when there is none; undefined when the markers are broken.
 */
export const withManagedBlock = (content: string, key: string, checklist: string): string | undefined => {
  const begin = `<!-- docs-sync:begin ${key} -->`
  const end = `<!-- docs-sync:end ${key} -->`
  const block = `${begin}\n${blockBody(key, checklist)}\n${end}`
  const from = content.indexOf(begin)
  const to = content.indexOf(end)
  if (from < 0 && to < 0) {
    const head = content.length === 0 ? "# Tasks\n" : content.endsWith("\n") ? content : `${content}\n`
    return `${head}\n${block}\n`
  }
  if (from < 0 || to < from) return undefined
  return `${content.slice(0, from)}${block}${content.slice(to + end.length)}`
}
