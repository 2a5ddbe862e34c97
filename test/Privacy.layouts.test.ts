/**
 * Secrets in the layouts real output prints them in (PRIV-2), found by a fault hunt: each of these
 * was written in clear in enforce mode. A JSON or YAML object (`"password": "…"`, the key quoted), a
 * quoted value with spaces, compound key names (`aws_secret_access_key`, `secret_key`, `passwd`),
 * an HTTP Authorization header (curl -v prints it), and the password of a URL (`postgres://u:p@h`).
 * The value alone is replaced, and serialized JSON stays valid; the run's own fields are not secrets.
 */
import { assert, describe, it } from "@effect/vitest"
import { makeLineHolder, redact, redactedMarker } from "../src/domain/Privacy.js"

const hidden = (text: string, secret: string) => {
  const { findings, text: out } = redact(text)
  assert.notInclude(out, secret, `${text} -> ${out}`)
  assert.isAtLeast(findings.length, 1, text)
  return out
}

describe("PRIV-2: secrets in the layouts output prints them in", () => {
  it("a JSON or YAML object whose key is quoted: the value goes, the document stays valid", () => {
    assert.strictEqual(hidden(`{"password": "hunter2222"}`, "hunter2222"), `{"password": "${redactedMarker}"}`)
    assert.strictEqual(hidden(`{"api_key":"abcdef123456","n":1}`, "abcdef123456"), `{"api_key":"${redactedMarker}","n":1}`)
    assert.strictEqual(hidden(`{'token': 'abcdef123456'}`, "abcdef123456"), `{'token': '${redactedMarker}'}`)
    assert.strictEqual(hidden(`"secret": abcdef123456`, "abcdef123456"), `"secret": ${redactedMarker}`)
    // Printed JSON inside a log line, itself serialized as a JSON string (a stage log's ndjson).
    const line = JSON.stringify({ data: JSON.stringify({ user: "me", password: "hunter 2222 x" }) })
    const out = hidden(line, "hunter 2222 x")
    assert.deepStrictEqual(JSON.parse(JSON.parse(out).data), { user: "me", password: redactedMarker })
  })

  it("a quoted value with spaces goes whole, up to its closing quote, and what follows stays", () => {
    assert.strictEqual(hidden(`password="my secret pass phrase" next`, "pass phrase"), `password="${redactedMarker}" next`)
    assert.strictEqual(hidden(`export TOKEN='ab cd ef gh'; echo ok`, "ab cd ef gh"), `export TOKEN='${redactedMarker}'; echo ok`)
    // Short quoted values stay (PRIV-2's 6 characters), and an unquoted value still stops at a space.
    assert.strictEqual(redact(`password="a b" && echo "hello world"`).text, `password="a b" && echo "hello world"`)
    assert.strictEqual(redact("token=abcdef123456 next").text, `token=${redactedMarker} next`)
  })

  it("compound key names: aws_secret_access_key, secret_key, SECRET-KEY, passwd", () => {
    const aws = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    assert.strictEqual(hidden(`aws_secret_access_key = ${aws}`, aws), `aws_secret_access_key = ${redactedMarker}`)
    assert.strictEqual(hidden(`AWS_SECRET_ACCESS_KEY=${aws}`, aws), `AWS_SECRET_ACCESS_KEY=${redactedMarker}`)
    assert.strictEqual(hidden("secret_key: 'abcdef12345'", "abcdef12345"), `secret_key: '${redactedMarker}'`)
    assert.strictEqual(hidden("SECRET-KEY=abcdef12345", "abcdef12345"), `SECRET-KEY=${redactedMarker}`)
    assert.strictEqual(hidden("passwd=hunter2222", "hunter2222"), `passwd=${redactedMarker}`)
  })

  it("an Authorization header: the credential after its scheme", () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc-_"
    assert.strictEqual(hidden(`> Authorization: Bearer ${jwt}\r\n`, jwt), `> Authorization: Bearer ${redactedMarker}\r\n`)
    assert.strictEqual(hidden("authorization: basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"), `authorization: basic ${redactedMarker}`)
    assert.strictEqual(hidden("Authorization: token ghp_abcdefghijkl", "ghp_abcdefghijkl"), `Authorization: token ${redactedMarker}`)
    assert.strictEqual(hidden("token: Bearer abcdefghijkl", "abcdefghijkl"), `token: Bearer ${redactedMarker}`)
    // A header value that is no credential, and prose, stay.
    for (const text of ["Authorization: none", "the bearer of this letter", "Authorization: Bearer"]) {
      assert.strictEqual(redact(text).text, text)
    }
  })

  it("the password of a URL (user:password@host), of any length; the user, host and a port stay", () => {
    assert.strictEqual(hidden("postgres://app:hunter2222@db:5432/x", "hunter2222"), `postgres://app:${redactedMarker}@db:5432/x`)
    assert.strictEqual(hidden("redis://:pw@cache", ":pw@"), `redis://:${redactedMarker}@cache`)
    for (const text of ["https://example.com:8443/a@b", "git@github.com:org/repo.git", "ssh://git@host:22/repo", "see http://host:80/"]) {
      assert.strictEqual(redact(text).text, text)
    }
  })

  it("the run's own records are not secrets: resume_token and token counts stay", () => {
    for (const text of [
      `{"resume_token": "${"a".repeat(64)}"}`,
      JSON.stringify({ resume_token: "b".repeat(64) }, null, 2),
      `{"tokens": 123456, "token_total": 1234567, "tokenizer": "cl100k_base"}`
    ]) {
      assert.strictEqual(redact(text).text, text)
    }
  })

  it("the line holder keeps a JSON key and its value together when a line ends between them", () => {
    // Each release is redacted on its own by the writer: the key must not go out without its value.
    const holder = makeLineHolder()
    const first = holder.push(`{"password":\n`)
    assert.notInclude(first, "password")
    const rest = holder.push(` "hunter2222"}\n`) + holder.flush()
    assert.strictEqual(`${first}${redact(rest).text}`, `{"password":\n "${redactedMarker}"}\n`)
  })
})
