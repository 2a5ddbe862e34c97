/** The review gate's commands, mounted by commands.ts next to the run commands. */
import { doctor } from "./doctor.js"
import { guard } from "./guard.js"
import { init } from "./init.js"
import { prompts } from "./prompts.js"
import { review } from "./review.js"

export const gateCommands = [guard, review, prompts, init, doctor] as const
