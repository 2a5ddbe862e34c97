/** The review gate's commands, mounted by commands.ts next to the run commands. */
import { guard } from "./guard.js"
import { review } from "./review.js"

export const gateCommands = [guard, review] as const
