/**
 * chai's deep equality (assert.deepStrictEqual, expect().toStrictEqual's chai side) reads Effect's
 * Option and Either by their iterator, which is the same for every value: `Option.none()` deep-equalled
 * `Option.some(x)`, so an assertion on an Option could not fail for the wrong case. Here an Option or an
 * Either is equal to another only with the same case and deep-equal contents; everything else is
 * compared as chai always did.
 */
import { Either, Option } from "effect"
import { chai } from "vitest"

const comparator = (left: unknown, right: unknown): boolean | null => {
  if (Option.isOption(left) || Option.isOption(right)) {
    if (!Option.isOption(left) || !Option.isOption(right) || left._tag !== right._tag) return false
    return Option.isNone(left) || Option.isNone(right) ? true : equal(left.value, right.value)
  }
  if (Either.isEither(left) || Either.isEither(right)) {
    if (!Either.isEither(left) || !Either.isEither(right) || left._tag !== right._tag) return false
    if (Either.isLeft(left) && Either.isLeft(right)) return equal(left.left, right.left)
    if (Either.isRight(left) && Either.isRight(right)) return equal(left.right, right.right)
    return false
  }
  return null
}

const equal = (left: unknown, right: unknown): boolean => chai.util.eql(left, right, { comparator })

chai.config.deepEqual = equal
