/**
 * The hi-fi design toolkit (`design ...`, SPEC DES-1..3) as a library: the service whose steps the
 * built-in `hi-fi-design-toolkit` and `design-reference` pipelines run, its requests, results and
 * errors, and its layer (loaded on first build; it needs `App.AppBaseLive` and Node's platform services).
 */

/** The toolkit's steps, what they take and give, and their errors. */
export {
  DesignDiffExceeded,
  DesignRunUnknown,
  type DesignStepError,
  DesignStepMissingInput,
  type DesignStepRequest,
  type DesignStepResult,
  DesignToolFailed,
  DesignToolkit,
  type SetupCheck
} from "./services/DesignToolkit.js"
/** The toolkit's layer, loaded on first build. */
export { DesignToolkitLayer } from "./layers/ToolLayers.js"
