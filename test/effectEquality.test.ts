/** test/support/effectEquality.ts: deep equality tells Option's and Either's cases apart, at any depth. */
import { assert, describe, it } from "@effect/vitest"
import { Either, Option } from "effect"

describe("deep equality of Effect data in the unit tests", () => {
  it("an Option equals another only with the same case and contents", () => {
    assert.throws(() => assert.deepStrictEqual(Option.none<string>(), Option.some("a")))
    assert.throws(() => assert.deepStrictEqual(Option.some("a"), Option.none<string>()))
    assert.throws(() => assert.deepStrictEqual(Option.some("a"), Option.some("b")))
    assert.deepStrictEqual(Option.some({ a: [1] }), Option.some({ a: [1] }))
    assert.deepStrictEqual(Option.none(), Option.none())
  })

  it("an Either equals another only with the same side and contents", () => {
    const left: Either.Either<number, number> = Either.left(1)
    const right: Either.Either<number, number> = Either.right(1)
    assert.throws(() => assert.deepStrictEqual(left, right))
    assert.throws(() => assert.deepStrictEqual(Either.right(1), Either.right(2)))
    assert.deepStrictEqual(Either.left({ b: "x" }), Either.left({ b: "x" }))
  })

  it("inside arrays and objects too", () => {
    assert.throws(() => assert.deepStrictEqual({ a: [Option.some(1)] }, { a: [Option.none<number>()] }))
    assert.deepStrictEqual({ a: [Option.some(1), Either.right("r")] }, { a: [Option.some(1), Either.right("r")] })
  })
})
