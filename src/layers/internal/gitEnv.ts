/**
 * The environment of every git command we run (the Git service, the cluster's workspace snapshot
 * and the runners' clones and worktrees): output in the C locale, stable to parse and in English for
 * the errors we quote, no pager, and never a prompt for credentials (a runner has no one to answer it).
 */
export const gitEnv: Readonly<Record<string, string>> = { LC_ALL: "C", GIT_PAGER: "cat", GIT_TERMINAL_PROMPT: "0" }
