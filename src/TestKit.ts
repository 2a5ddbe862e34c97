/**
 * The deterministic test kit (B-4): the production graph on in-memory leaves (`AppMemory`), and the
 * leaves themselves with the services that let a test script and inspect them. No processes, no
 * disk; time is the Clock, so `TestClock` drives heartbeats, retries and timeouts.
 */

/** The whole app on in-memory leaves, with its options. */
export { AppMemory, type MemoryAppOptions } from "./layers/App.js"
/** In-memory files, and the service that reads and plants them. */
export { FilesMemory, InMemoryFiles } from "./layers/Files.js"
/** Scripted processes (exit codes, output, delays by command), and the record of what ran. */
export { ProcessInvocations, ProcessRunnerMemory, type ScriptedProcess } from "./layers/ProcessRunner.js"
/** Scripted answers to approval prompts, and the record of what was asked. */
export { PrompterQuestions, PrompterScripted } from "./layers/Prompter.js"
/** A host with a fixed pid and name, and the pids that count as alive. */
export { HostMemory } from "./layers/Host.js"
/** The control plane's mode, group settings and drift reports, in memory. */
export { ControlPlaneMemory, type ControlPlaneMemoryOptions } from "./layers/ControlPlane.js"
/** The learning pipeline in memory (off unless enabled). */
export { LearningMemory, type LearningMemoryOptions } from "./layers/Learning.js"
/** Typed settings for a test, with the production defaults for what is not given. */
export { OrchestratorConfigTest } from "./layers/OrchestratorConfig.js"
/** A pipeline catalog fixed in code. */
export { PipelineCatalogMemory } from "./layers/PipelineCatalog.js"
/** Executors built from a function: a fake remote executor in a test is one of these. */
export { executorFromRun, executorFromStream } from "./layers/Executor.js"
/** Randomness from a seed (AppMemory's `seed`), and production's from Web Crypto. */
export { EntropyLive, EntropySeeded } from "./layers/Entropy.js"
