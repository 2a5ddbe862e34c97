/**
 * The privacy rules as pure functions (SPEC PRIV-1, PRIV-2; DECISIONS D-13): what `redact` finds and
 * replaces, how the mode is read from the two environment values, and the line holder that keeps a
 * secret printed across two reads whole.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  cutOutside,
  makeLineHolder,
  type PrivacyFinding,
  privacyModeOf,
  type PrivacyRule,
  privacyRules,
  redact,
  redactedMarker,
  startOutside
} from "../src/domain/Privacy.js"

const token: PrivacyFinding = { rule: "sensitive-token", action: "redact", reason: "detected high-risk token" }
const privateKey: PrivacyFinding = { rule: "private-key", action: "block", reason: "detected private key material" }

const keyBody = "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ=="
const pem = (kind: string) => `-----BEGIN ${kind}PRIVATE KEY-----\n${keyBody}\n-----END ${kind}PRIVATE KEY-----`

describe("PRIV-2 redact: private keys (block)", () => {
  it("replaces the whole BEGIN..END block, for RSA, EC and plain keys, and keeps the text around it", () => {
    for (const kind of ["RSA ", "EC ", ""]) {
      const { findings, text } = redact(`before\n${pem(kind)}\nafter\n`)
      assert.strictEqual(text, `before\n${redactedMarker}\nafter\n`, kind)
      assert.deepStrictEqual(findings, [privateKey], kind)
    }
  })

  it("replaces from a header without its END to the end of the text", () => {
    const { findings, text } = redact(`key:\n-----BEGIN RSA PRIVATE KEY-----\n${keyBody}\n`)
    assert.strictEqual(text, `key:\n${redactedMarker}`)
    assert.deepStrictEqual(findings, [privateKey])
  })

  it("is case-insensitive", () => {
    const { findings, text } = redact("-----begin rsa private key-----\nabc\n-----end rsa private key-----")
    assert.strictEqual(text, redactedMarker)
    assert.deepStrictEqual(findings, [privateKey])
  })

  it("finds two keys in one text, and leaves what is between them", () => {
    const { findings, text } = redact(`${pem("RSA ")}\nmiddle\n${pem("EC ")}`)
    assert.strictEqual(text, `${redactedMarker}\nmiddle\n${redactedMarker}`)
    assert.deepStrictEqual(findings, [privateKey, privateKey])
  })

  it("does not take a public key or a certificate for a private key", () => {
    const text = "-----BEGIN PUBLIC KEY-----\nMFwwDQYJ\n-----END PUBLIC KEY-----\n-----BEGIN CERTIFICATE-----\nMIIB\n"
    assert.deepStrictEqual(redact(text), { text, findings: [] })
  })
})

describe("PRIV-2 redact: sensitive tokens (redact)", () => {
  it("api_key, api-key and apikey with = or :", () => {
    for (const key of ["api_key", "api-key", "apikey"]) {
      for (const sep of ["=", ": ", " = ", ":"]) {
        const { findings, text } = redact(`export ${key}${sep}abcdef123456 rest`)
        assert.strictEqual(text, `export ${key}${sep}${redactedMarker} rest`, `${key}${sep}`)
        assert.deepStrictEqual(findings, [token], `${key}${sep}`)
      }
    }
  })

  it("password, secret and token", () => {
    assert.deepStrictEqual(redact("password: hunter2hunter2\n"), { text: `password: ${redactedMarker}\n`, findings: [token] })
    assert.deepStrictEqual(redact("client secret=s3cr3t-value"), { text: `client secret=${redactedMarker}`, findings: [token] })
    assert.deepStrictEqual(redact("token=abcdef"), { text: `token=${redactedMarker}`, findings: [token] })
    assert.deepStrictEqual(redact("GITHUB_TOKEN=ghp_0123456789"), { text: `GITHUB_TOKEN=${redactedMarker}`, findings: [token] })
  })

  it("is case-insensitive", () => {
    for (const line of ["API_KEY=abcdef123456", "Password: Hunter2Hunter2", "TOKEN = abcdefgh", "SeCrEt:zzzzzz"]) {
      const { findings, text } = redact(line)
      assert.strictEqual(text, `${line.replace(/[^:=\s]+$/, "")}${redactedMarker}`, line)
      assert.deepStrictEqual(findings, [token], line)
    }
  })

  it("does not match values shorter than 6 characters, a keyword alone, or a value after a space-only gap", () => {
    for (const line of ["token=abcde", "password: 12345", "api_key=", "the token is abcdef123456", "password hunter2hunter2"]) {
      assert.deepStrictEqual(redact(line), { text: line, findings: [] }, line)
    }
  })

  it("stops the value at whitespace, so what follows is kept", () => {
    assert.strictEqual(redact("token=abcdef123456 next line\nmore").text, `token=${redactedMarker} next line\nmore`)
  })

  it("redacts the value only: the key stays, and the value stops at shell separators and quotes (issue 16, item 10)", () => {
    assert.strictEqual(
      redact("echo api_key=abcdef123456zz; printf 'done\\n'").text,
      `echo api_key=${redactedMarker}; printf 'done\\n'`
    )
    for (const separator of [";", "&", "|", "<", ">", "(", ")", "`", "'", "\""]) {
      assert.strictEqual(redact(`token=abcdef123456${separator}next`).text, `token=${redactedMarker}${separator}next`, separator)
    }
    assert.strictEqual(redact("x && password=hunter2hunter2&& y").text, `x && password=${redactedMarker}&& y`)
    assert.strictEqual(redact("export API_KEY='abcdef123456' next").text, `export API_KEY='${redactedMarker}' next`)
  })

  it("AWS access key ids (AKIA + 16 upper-case letters or digits), case-sensitive", () => {
    assert.deepStrictEqual(redact("aws AKIAIOSFODNN7EXAMPLE done"), { text: `aws ${redactedMarker} done`, findings: [token] })
    for (const line of ["akiaiosfodnn7example", "AKIAIOSFODNN7EXAMP", "AKIAiosfodnn7example"]) {
      assert.deepStrictEqual(redact(line), { text: line, findings: [] }, line)
    }
  })

  // PRIV-2's pattern ends in `\S{6,}`: a quoted value is a value like any other.
  it("matches a double-quoted value (PRIV-2: \\S{6,})", () => {
    for (const line of ["export API_KEY=\"abcdef123456\"", "password: \"hunter2hunter2\""]) {
      const { findings, text } = redact(line)
      assert.notInclude(text, "abcdef123456", line)
      assert.notInclude(text, "hunter2hunter2", line)
      assert.deepStrictEqual(findings, [token], line)
    }
  })
})

describe("redact: findings and text", () => {
  it("returns the text unchanged and no findings when nothing matches", () => {
    const text = "hello world\nbuild ok: 12 files, token count 3\n"
    assert.deepStrictEqual(redact(text), { text, findings: [] })
  })

  it("lists one finding per match, every rule's in rule order", () => {
    const { findings, text } = redact(
      `a api_key=abcdef123456 b password=hunter2hunter2 c AKIAIOSFODNN7EXAMPLE\n${pem("RSA ")}\n`
    )
    assert.strictEqual(text, `a api_key=${redactedMarker} b password=${redactedMarker} c ${redactedMarker}\n${redactedMarker}\n`)
    assert.deepStrictEqual(findings, [privateKey, token, token, token])
  })

  it("gives the same result when called again (no regex state carried between calls)", () => {
    const line = "token=abcdef123456"
    const first = redact(line)
    const second = redact(line)
    assert.deepStrictEqual(second, first)
    assert.strictEqual(second.text, `token=${redactedMarker}`)
  })
})

describe("redact: JSON stays valid (D-13: manifests and logs are JSON)", () => {
  it("a pretty-printed object keeps parsing, with every secret gone", () => {
    const value = {
      command: "curl -H api_key=abcdef123456 https://example.test",
      stderr: `fatal: password=hunter2hunter2\n${pem("RSA ")}\nafter`,
      quoted: "token=abcdefgh\"quoted\\back",
      nested: { list: ["AKIAIOSFODNN7EXAMPLE", "secret:   zzzzzzzz\tend"] },
      plain: "kept"
    }
    for (const json of [JSON.stringify(value), JSON.stringify(value, null, 2)]) {
      const { findings, text } = redact(json)
      const parsed: unknown = JSON.parse(text)
      assert.deepStrictEqual(parsed, {
        command: `curl -H api_key=${redactedMarker} https://example.test`,
        stderr: `fatal: password=${redactedMarker}\n${redactedMarker}\nafter`,
        quoted: `token=${redactedMarker}"quoted\\back`,
        nested: { list: [redactedMarker, `secret:   ${redactedMarker}\tend`] },
        plain: "kept"
      })
      for (const secret of ["abcdef123456", "hunter2hunter2", "MIIBOgIBAAJ", "AKIAIOSFODNN7EXAMPLE", "zzzzzzzz"]) {
        assert.notInclude(text, secret)
      }
      assert.strictEqual(findings.length, 6)
    }
  })

  // A key header without its END (a key cut by a chunk or a tail) inside a JSON string: the key's
  // lines after the header are escaped (`\n`), and they are key material too.
  it("a key header without END inside a JSON string: the rest of that string goes, the strings after it stay", () => {
    const json = JSON.stringify({ a: `-----BEGIN RSA PRIVATE KEY-----\n${keyBody}\n`, b: "after", c: ["x"] })
    const { text } = redact(json)
    assert.notInclude(text, "MIIBOgIBAAJ")
    const parsed: unknown = JSON.parse(text)
    assert.deepStrictEqual(parsed, { a: redactedMarker, b: "after", c: ["x"] })
  })
})

describe("rules are data", () => {
  it("holds the PRIV-2 rules: private keys block; tokens, Authorization headers, URL passwords and AWS keys redact", () => {
    assert.deepStrictEqual(
      privacyRules.map((rule) => [rule.id, rule.action, rule.reason]),
      [
        ["private-key", "block", "detected private key material"],
        ["sensitive-token", "redact", "detected high-risk token"],
        ["sensitive-token", "redact", "detected high-risk token"],
        ["sensitive-token", "redact", "detected high-risk token"],
        ["sensitive-token", "redact", "detected high-risk token"]
      ]
    )
  })

  it("an added rule is applied with the built-in ones", () => {
    const extra: PrivacyRule = { id: "x", action: "redact", reason: "r", pattern: "foo\\d+", flags: "g" }
    const rules = [...privacyRules, extra]
    const { findings, text } = redact("foo1 and foo22, api_key=abcdef123456 , foo", rules)
    assert.strictEqual(text, `${redactedMarker} and ${redactedMarker}, api_key=${redactedMarker} , foo`)
    assert.deepStrictEqual(findings, [token, { rule: "x", action: "redact", reason: "r" }, { rule: "x", action: "redact", reason: "r" }])
    // The default rules are untouched by that call.
    assert.deepStrictEqual(redact("foo1"), { text: "foo1", findings: [] })
  })

  it("an empty rule list finds nothing", () => {
    assert.deepStrictEqual(redact("api_key=abcdef123456", []), { text: "api_key=abcdef123456", findings: [] })
  })
})

describe("PRIV-1 privacyModeOf(MODE, ENFORCE)", () => {
  const enforcing = ["1", "true", "enforce", "on", "yes", " TRUE ", "Enforce", "YES\n"]

  it("unset MODE and ENFORCE: shadow", () => {
    assert.strictEqual(privacyModeOf(undefined, undefined), "shadow")
  })

  it("MODE decides when it is set: 1, true, enforce, on, yes (trimmed, any case) enforce", () => {
    for (const mode of enforcing) {
      assert.strictEqual(privacyModeOf(mode, undefined), "enforce", JSON.stringify(mode))
      assert.strictEqual(privacyModeOf(mode, "0"), "enforce", `${JSON.stringify(mode)} over ENFORCE=0`)
    }
  })

  it("MODE set to anything else is shadow, whatever ENFORCE says (empty included)", () => {
    for (const mode of ["", "  ", "shadow", "off", "0", "false", "no", "enforcing", "bogus"]) {
      for (const enforce of [undefined, "1", "true", "enforce", "on", "yes"]) {
        assert.strictEqual(privacyModeOf(mode, enforce), "shadow", `MODE=${JSON.stringify(mode)} ENFORCE=${String(enforce)}`)
      }
    }
  })

  it("without MODE, ENFORCE decides with the same values", () => {
    for (const enforce of enforcing) assert.strictEqual(privacyModeOf(undefined, enforce), "enforce", JSON.stringify(enforce))
    for (const enforce of ["", "0", "false", "no", "off", "shadow", "2"]) {
      assert.strictEqual(privacyModeOf(undefined, enforce), "shadow", JSON.stringify(enforce))
    }
  })
})

describe("D-13 makeLineHolder", () => {
  it("holds an unfinished line and releases it whole once its newline arrives", () => {
    const holder = makeLineHolder()
    assert.strictEqual(holder.push("pass"), "")
    assert.strictEqual(holder.push("word=hunter2"), "")
    assert.strictEqual(holder.push("hunter2\nnext"), "password=hunter2hunter2\n")
    assert.strictEqual(holder.flush(), "next")
  })

  it("releases every whole line at once and keeps only the part after the last newline", () => {
    const holder = makeLineHolder()
    assert.strictEqual(holder.push("a\nb\nc"), "a\nb\n")
    assert.strictEqual(holder.push("d\ne\n"), "cd\ne\n")
    assert.strictEqual(holder.flush(), "")
  })

  it("flush returns what is held once, and the holder starts empty again", () => {
    const holder = makeLineHolder()
    assert.strictEqual(holder.flush(), "")
    assert.strictEqual(holder.push("tail"), "")
    assert.strictEqual(holder.flush(), "tail")
    assert.strictEqual(holder.flush(), "")
    assert.strictEqual(holder.push("x\n"), "x\n")
  })

  it("releases a line longer than the limit in parts, holding at most `limit` characters", () => {
    const holder = makeLineHolder(4)
    assert.strictEqual(holder.push("abcdefghij"), "abcdef")
    assert.strictEqual(holder.push("kl"), "gh")
    assert.strictEqual(holder.push("\n"), "ijkl\n")
    assert.strictEqual(holder.push("ab\ncdefgh"), "ab\ncd")
    assert.strictEqual(holder.flush(), "efgh")
  })

  it("holds 8192 characters by default", () => {
    const holder = makeLineHolder()
    const line = "x".repeat(10_000)
    assert.strictEqual(holder.push(line), "x".repeat(10_000 - 8192))
    assert.strictEqual(holder.flush(), "x".repeat(8192))
    assert.strictEqual(makeLineHolder().push("y".repeat(8192)), "")
  })

  it("never cuts a line longer than the limit inside a secret (issue 16, item 15a)", () => {
    // The layout the fault hunt found: the secret, then more than the limit of filler on its line.
    const holder = makeLineHolder()
    let written = holder.push("password=EightKSecretJJJ")
    written += holder.push("z".repeat(8180))
    written += holder.push("\n")
    written += holder.flush()
    assert.strictEqual(redact(written).text, `password=${redactedMarker}\n`)
    // Split by a forced cut in a short holder (longer than the longest fixed-length secret, as the
    // default is): each part, redacted on its own, reveals nothing.
    for (const size of [1, 3, 7, 50]) {
      const short = makeLineHolder(32)
      const input = "echo AKIAIOSFODNN7EXAMPLE; token=abcdefghijklmnopqrstuvwxyz and more text here\n"
      const parts: Array<string> = []
      for (let i = 0; i < input.length; i += size) parts.push(short.push(input.slice(i, i + size)))
      parts.push(short.flush())
      const shown = parts.map((part) => redact(part).text).join("")
      assert.strictEqual(shown, `echo ${redactedMarker}; token=${redactedMarker} and more text here\n`, `pieces of ${size}`)
    }
  })

  it("a key and its value on separate lines are released together, redacted (a key ending a line is held)", () => {
    // Redacting the text whole finds these (the rule allows whitespace, newlines included, around
    // the separator); released line by line, each part alone would reveal the value.
    for (const input of ["password\n=hunter2hunter2\nafter\n", "x token=\n  abcdefgh12\n", "api_key\n\n:\nsecretvalue99 ok\n"]) {
      assert.notStrictEqual(redact(input).text, input, "the whole text holds a secret")
      for (const size of [1, 2, 5, input.length]) {
        const holder = makeLineHolder()
        const parts: Array<string> = []
        for (let i = 0; i < input.length; i += size) parts.push(holder.push(input.slice(i, i + size)))
        parts.push(holder.flush())
        assert.strictEqual(parts.join(""), input, "nothing lost")
        assert.strictEqual(parts.map((part) => redact(part).text).join(""), redact(input).text, `${JSON.stringify(input)} in pieces of ${size}`)
      }
    }
    // A key word that ends a line and is followed by an ordinary line is released with that line.
    const holder = makeLineHolder()
    assert.strictEqual(holder.push("the token\n"), "the ")
    assert.strictEqual(holder.push("is fine\nnext"), "token\nis fine\n")
    assert.strictEqual(holder.flush(), "next")
  })

  it("a value longer than 64 KiB is released redacted, and its continuation is dropped up to its end", () => {
    const holder = makeLineHolder()
    const parts = [holder.push(`x token=${"v".repeat(70_000)}`), holder.push("v".repeat(5000)), holder.push("vv end\n"), holder.flush()]
    assert.strictEqual(parts.map((part) => redact(part).text).join(""), `x token=${redactedMarker} end\n`)
  })

  it("cutOutside moves a cut back to the start of a secret it would split", () => {
    const text = "see password=hunter2hunter2 and AKIAIOSFODNN7EXAMPLE."
    assert.strictEqual(cutOutside(text, 16), 4)
    assert.strictEqual(cutOutside(text, 4), 4)
    assert.strictEqual(cutOutside(text, 2), 2)
    assert.strictEqual(cutOutside(text, 40), 32)
    assert.strictEqual(cutOutside(text, 28), 28)
    assert.strictEqual(cutOutside(text, text.length), text.length)
  })

  it("startOutside moves the start of a tail past a secret that began before it", () => {
    const text = "see password=hunter2hunter2 and AKIAIOSFODNN7EXAMPLE."
    assert.strictEqual(startOutside(text, 16), 27)
    assert.strictEqual(startOutside(text, 40), 52)
    assert.strictEqual(startOutside(text, 2), 2)
    assert.strictEqual(startOutside(text, 27), 27)
  })

  it("the output is the input, whatever the cut", () => {
    const input = "line one\nsecond line here\n\nlast without newline"
    for (const size of [1, 2, 3, 5, 7, 100]) {
      const holder = makeLineHolder(6)
      let out = ""
      for (let i = 0; i < input.length; i += size) out += holder.push(input.slice(i, i + size))
      out += holder.flush()
      assert.strictEqual(out, input, `pieces of ${size}`)
    }
  })
})
