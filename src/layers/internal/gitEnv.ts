/**
 * The environment of the git commands the cluster's workspaces run (issue 18), on the orchestrator
 * (the snapshot) and on runners (clones, worktrees): messages in English for the errors we quote,
 * no pager, and never a prompt for credentials (a runner has no one to answer it).
 */
export const gitEnv: Readonly<Record<string, string>> = { LC_ALL: "C", GIT_PAGER: "cat", GIT_TERMINAL_PROMPT: "0" }
