/** DES-2's activation rules to the exact value (mutation testing, issue 16). */
import { assert, describe, it } from "@effect/vitest"
import { activeDesignPipeline, isDesignTruthy, needsDesignConfig } from "../../src/domain/DesignActivation.js"

const env = (toolkit?: string, pipeline?: string, referencePipeline?: string) => ({ toolkit, pipeline, referencePipeline })

describe("design activation, exactly", () => {
  it("enabled counts as truthy in any case and with spaces around it", () => {
    assert.isTrue(isDesignTruthy("Enabled"))
    assert.isTrue(isDesignTruthy(" ENABLED "))
    assert.isTrue(isDesignTruthy("yes"))
    assert.isFalse(isDesignTruthy("enable"))
  })

  it("the config is needed only when none of the three variables is set (empty is unset)", () => {
    assert.isTrue(needsDesignConfig(env()))
    assert.isTrue(needsDesignConfig(env("", "", "")))
    assert.isFalse(needsDesignConfig(env("0")))
    assert.isFalse(needsDesignConfig(env(undefined, "0")))
    assert.isFalse(needsDesignConfig(env(undefined, undefined, "0")))
    assert.isFalse(needsDesignConfig(env("1", "1", "1")))
  })

  it("the first variable set decides, whatever the config says", () => {
    const config = { toolkitEnabled: true, sourceCount: 1, referenceEnabled: true }
    assert.strictEqual(activeDesignPipeline(env("Enabled"), config), "hi-fi-design-toolkit")
    assert.strictEqual(activeDesignPipeline(env("0", "1"), config), undefined)
    assert.strictEqual(activeDesignPipeline(env("", "1"), undefined), "design-reference")
    assert.strictEqual(activeDesignPipeline(env("", "", "on"), undefined), "design-reference")
    assert.strictEqual(activeDesignPipeline(env(), { toolkitEnabled: true, sourceCount: 0, referenceEnabled: false }), undefined)
  })
})
