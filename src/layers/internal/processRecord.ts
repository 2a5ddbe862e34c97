/**
 * This process as the records that name a live process write it (a run's owner, a takeover's claim,
 * a runner's hold on its folder): its pid and host name, and its start time where the OS tells it,
 * so a reader can tell it from a later process given the same pid (DECISIONS D-7).
 */
import { Effect } from "effect"
import type { Host } from "../../services/Host.js"

export const thisProcess = (host: Host["Type"]) =>
  Effect.map(host.startTimeOf(host.pid), (started) => ({
    pid: host.pid,
    host: host.hostname,
    ...(started === undefined ? {} : { started })
  }))
