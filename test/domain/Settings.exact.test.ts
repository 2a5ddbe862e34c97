/**
 * The settings sections test/Settings.test.ts does not decode (cluster, cache, notify, tracing,
 * terminal, design) and the cloud-sync corners it leaves, to the exact value and sentence (mutation
 * testing, issue 16). The environment is a ConfigProvider over a map (pathDelim "_", STYLE §4.7).
 */
import { assert, describe, it } from "@effect/vitest"
import { type Config, ConfigProvider, Duration, Effect, Either, Option } from "effect"
import {
  cacheSection,
  cloudSyncSection,
  clusterSection,
  decodeSettings,
  designSection,
  engineSection,
  notifySection,
  parseClusterDatabaseUrl,
  terminalSection,
  tracingSection
} from "../../src/domain/Settings.js"

const run = <A>(section: Config.Config<A>, env: Record<string, string>) =>
  Effect.runSync(Effect.either(decodeSettings(section).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)), { pathDelim: "_" }))
  )))

const value = <A>(section: Config.Config<A>, env: Record<string, string>): A => Either.getOrThrow(run(section, env))

/** The variable and sentence a section fails with, or [] when it decodes. */
const refusal = <A>(section: Config.Config<A>, env: Record<string, string>) =>
  Either.match(run(section, env), { onLeft: (error) => [error.variable, error.message], onRight: () => [] })

const millis = (duration: Option.Option<Duration.Duration>) => Option.map(duration, Duration.toMillis)

const postgres = "a PostgreSQL URL (postgres://user:password@host:port/database)"

describe("cluster (B-3)", () => {
  it("unset: no database, the cluster's own lock expiry, a 30 s stop grace", () => {
    const cluster = value(clusterSection, {})
    assert.deepStrictEqual(cluster.databaseUrl, Option.none())
    assert.deepStrictEqual(cluster.lockExpiry, Option.none())
    assert.strictEqual(Duration.toMillis(cluster.stopGrace), 30_000)
  })

  it("a postgres: or postgresql: URL, trimmed; durations as Effect writes them", () => {
    const cluster = value(clusterSection, {
      CODEX_CLUSTER_DATABASE_URL: " postgres://u:p@db:5432/runs ",
      CODEX_CLUSTER_LOCK_EXPIRY: "10 seconds",
      CODEX_CLUSTER_STOP_GRACE: "500 millis"
    })
    assert.deepStrictEqual(cluster.databaseUrl, Option.some("postgres://u:p@db:5432/runs"))
    assert.deepStrictEqual(millis(cluster.lockExpiry), Option.some(10_000))
    assert.strictEqual(Duration.toMillis(cluster.stopGrace), 500)
    assert.deepStrictEqual(
      value(clusterSection, { CODEX_CLUSTER_DATABASE_URL: "postgresql://db/runs" }).databaseUrl,
      Option.some("postgresql://db/runs")
    )
  })

  it("anything else names the variable, what it wants and its default", () => {
    for (const url of ["mysql://db/runs", "db:5432", "not a url"]) {
      assert.deepStrictEqual(refusal(clusterSection, { CODEX_CLUSTER_DATABASE_URL: url }), [
        "CODEX_CLUSTER_DATABASE_URL",
        `CODEX_CLUSTER_DATABASE_URL=${JSON.stringify(url)} is not ${postgres}. ` +
        `Set CODEX_CLUSTER_DATABASE_URL to ${postgres} or unset it.`
      ])
    }
    const durationWanted = "a duration such as \"5 seconds\" or \"500 millis\""
    // Under a second, a runner renews its shard locks every few ms and loses them meanwhile ("1 millis":
    // half a core and "Shard lock storage is unhealthy" over and over).
    const lockWanted = "a duration of at least 1 second, such as \"5 seconds\""
    for (const duration of ["soon", "0 seconds", "35", "1 millis", "999 millis"]) {
      assert.deepStrictEqual(refusal(clusterSection, { CODEX_CLUSTER_LOCK_EXPIRY: duration }), [
        "CODEX_CLUSTER_LOCK_EXPIRY",
        `CODEX_CLUSTER_LOCK_EXPIRY=${JSON.stringify(duration)} is not ${lockWanted}. ` +
        `Set CODEX_CLUSTER_LOCK_EXPIRY to ${lockWanted} or unset it (default 35 seconds).`
      ])
    }
    assert.deepStrictEqual(refusal(clusterSection, { CODEX_CLUSTER_STOP_GRACE: "0 millis" }), [
      "CODEX_CLUSTER_STOP_GRACE",
      `CODEX_CLUSTER_STOP_GRACE="0 millis" is not ${durationWanted}. ` +
      `Set CODEX_CLUSTER_STOP_GRACE to ${durationWanted} or unset it (default 30 seconds).`
    ])
  })

  it("parseClusterDatabaseUrl: the flag's value trimmed, or one sentence naming the flag", () => {
    assert.deepStrictEqual(parseClusterDatabaseUrl("--database-url", " postgres://db/runs "), Either.right("postgres://db/runs"))
    const refused = Either.match(parseClusterDatabaseUrl("--database-url", "http://db/runs"), {
      onLeft: (error) => [error._tag, error.variable, error.message],
      onRight: () => []
    })
    assert.deepStrictEqual(refused, [
      "InvalidSetting",
      "--database-url",
      `--database-url="http://db/runs" is not ${postgres}.`
    ])
  })
})

describe("cache (B-5)", () => {
  it("unset: on, under the runs root, 1 GiB", () => {
    assert.deepStrictEqual(value(cacheSection, {}), { enabled: true, dir: undefined, maxBytes: 1024 ** 3 })
    assert.deepStrictEqual(value(cacheSection, { CODEX_ORCHESTRATOR_CACHE_DIR: "" }).dir, undefined)
  })

  it("on and off in any case; a folder; a size with a binary unit", () => {
    for (const on of ["on", "1", "TRUE", " Yes "]) assert.isTrue(value(cacheSection, { CODEX_ORCHESTRATOR_CACHE: on }).enabled, on)
    for (const off of ["OFF", "0", "false", "No"]) assert.isFalse(value(cacheSection, { CODEX_ORCHESTRATOR_CACHE: off }).enabled, off)
    assert.deepStrictEqual(
      value(cacheSection, { CODEX_ORCHESTRATOR_CACHE_DIR: "cache-here", CODEX_ORCHESTRATOR_CACHE_MAX_SIZE: "512M" }),
      { enabled: true, dir: "cache-here", maxBytes: 512 * 1024 ** 2 }
    )
  })

  it("a switch or size it cannot read names the variable and its default, in the words its values use", () => {
    assert.deepStrictEqual(refusal(cacheSection, { CODEX_ORCHESTRATOR_CACHE: "maybe" }), [
      "CODEX_ORCHESTRATOR_CACHE",
      `CODEX_ORCHESTRATOR_CACHE="maybe" is not on or off. Set CODEX_ORCHESTRATOR_CACHE to on or off or unset it (default on).`
    ])
    assert.deepStrictEqual(refusal(cacheSection, { CODEX_ORCHESTRATOR_CACHE_MAX_SIZE: "big" }), [
      "CODEX_ORCHESTRATOR_CACHE_MAX_SIZE",
      `CODEX_ORCHESTRATOR_CACHE_MAX_SIZE="big" is not a size in bytes such as 1048576, 512M or 2G. ` +
      "Set CODEX_ORCHESTRATOR_CACHE_MAX_SIZE to a size in bytes such as 1048576, 512M or 2G or unset it (default 1G)."
    ])
  })
})

describe("notify (EXEC-4) and tracing (issue 22)", () => {
  it("notify: a comma list of http(s) URLs, blanks dropped; the first other target is named", () => {
    assert.deepStrictEqual(value(notifySection, {}), { targets: [] })
    assert.deepStrictEqual(value(notifySection, { CODEX_ORCHESTRATOR_NOTIFY: " http://a.test/x, ,https://b.test ," }), {
      targets: ["http://a.test/x", "https://b.test"]
    })
    assert.deepStrictEqual(refusal(notifySection, { CODEX_ORCHESTRATOR_NOTIFY: "http://a.test,ftp://b.test,c" }), [
      "CODEX_ORCHESTRATOR_NOTIFY",
      `CODEX_ORCHESTRATOR_NOTIFY="ftp://b.test" is not a comma list of http(s) URLs (a notification target). ` +
      "Set CODEX_ORCHESTRATOR_NOTIFY to a comma list of http(s) URLs or unset it."
    ])
  })

  it("notify: a target with a user or password is refused for that reason, its password hidden", () => {
    assert.deepStrictEqual(refusal(notifySection, { CODEX_ORCHESTRATOR_NOTIFY: "https://ok.test,https://bot:s3cret@h.example/x" }), [
      "CODEX_ORCHESTRATOR_NOTIFY",
      `CODEX_ORCHESTRATOR_NOTIFY: the target "https://bot:***@h.example/x" carries a user name or password, which is never sent ` +
      "(fetch refuses it); put the token in the path or query."
    ])
  })

  it("notify: a target with a control character is refused for that reason, shown escaped on one line", () => {
    assert.deepStrictEqual(refusal(notifySection, { CODEX_ORCHESTRATOR_NOTIFY: "https://ok.test,https://h.example/a\nb" }), [
      "CODEX_ORCHESTRATOR_NOTIFY",
      `CODEX_ORCHESTRATOR_NOTIFY: the target "https://h.example/a\\nb" contains a control character (\\n); remove it: a URL is ` +
      "one line of printable characters."
    ])
    // One the URL parser refuses outright (in the host): the same reason, not "not a comma list of URLs".
    assert.deepStrictEqual(refusal(notifySection, { CODEX_ORCHESTRATOR_NOTIFY: "https://h\u0001.example/" })[1],
      `CODEX_ORCHESTRATOR_NOTIFY: the target "https://h\\u0001.example/" contains a control character (\\u0001); remove it: a URL is ` +
      "one line of printable characters.")
  })

  it("tracing: a collector URL with a control character is refused for that reason, shown escaped on one line", () => {
    assert.deepStrictEqual(refusal(tracingSection, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/v\u2028x" }), [
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      `OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/v\\u2028x" contains a control character (\\u2028); remove it: ` +
      "a URL is one line of printable characters."
    ])
  })

  it("tracing: an http(s) collector URL, trimmed, or none", () => {
    assert.deepStrictEqual(value(tracingSection, {}), { endpoint: Option.none() })
    assert.deepStrictEqual(value(tracingSection, { OTEL_EXPORTER_OTLP_ENDPOINT: "  " }), { endpoint: Option.none() })
    assert.deepStrictEqual(value(tracingSection, { OTEL_EXPORTER_OTLP_ENDPOINT: " http://collector:4318 " }), {
      endpoint: Option.some("http://collector:4318")
    })
    assert.deepStrictEqual(refusal(tracingSection, { OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }), [
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      `OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318" is not an http(s) URL (an OTLP/HTTP collector). ` +
      "Set OTEL_EXPORTER_OTLP_ENDPOINT to an http(s) URL or unset it."
    ])
  })
})

describe("terminal and design", () => {
  it("terminal: NO_COLOR set and not empty; FORCE_COLOR anything but 0 or false", () => {
    assert.deepStrictEqual(value(terminalSection, {}), { noColor: false, forceColor: false })
    assert.deepStrictEqual(value(terminalSection, { NO_COLOR: "", FORCE_COLOR: "1" }), { noColor: false, forceColor: true })
    assert.deepStrictEqual(value(terminalSection, { NO_COLOR: "1", FORCE_COLOR: "False" }), { noColor: true, forceColor: false })
  })

  it("design: each variable as given, empty as unset", () => {
    const variables = [
      "DESIGN_TOOLKIT",
      "DESIGN_PIPELINE",
      "DESIGN_REFERENCE_PIPELINE",
      "DESIGN_CONFIG_PATH",
      "CODEX_ORCHESTRATOR_TASK_ID",
      "CODEX_ORCHESTRATOR_RUN_ID",
      "CODEX_ORCHESTRATOR_MANIFEST_PATH"
    ]
    assert.deepStrictEqual(value(designSection, Object.fromEntries(variables.map((name) => [name, ` ${name} `]))), {
      toolkit: " DESIGN_TOOLKIT ",
      pipeline: " DESIGN_PIPELINE ",
      referencePipeline: " DESIGN_REFERENCE_PIPELINE ",
      configPath: " DESIGN_CONFIG_PATH ",
      stageTaskId: " CODEX_ORCHESTRATOR_TASK_ID ",
      stageRunId: " CODEX_ORCHESTRATOR_RUN_ID ",
      stageManifestPath: " CODEX_ORCHESTRATOR_MANIFEST_PATH "
    })
    assert.deepStrictEqual(value(designSection, Object.fromEntries(variables.map((name) => [name, ""]))), {
      toolkit: undefined,
      pipeline: undefined,
      referencePipeline: undefined,
      configPath: undefined,
      stageTaskId: undefined,
      stageRunId: undefined,
      stageManifestPath: undefined
    })
  })
})

describe("cloud sync and the engine's grace, the corners", () => {
  it("a bucket, a vault path and a base URL of one's own are kept, trimmed", () => {
    assert.deepStrictEqual(
      value(cloudSyncSection, {
        CODEX_CLOUD_SYNC: "on",
        CODEX_CLOUD_WORKSPACE_ID: "ws",
        CODEX_CLOUD_BASE_URL: " http://cloud.test:8080 ",
        CLOUD_SYNC_BUCKET: " runs ",
        CLOUD_SYNC_VAULT_PATH: " secret/codex "
      }),
      Option.some({ baseUrl: "http://cloud.test:8080", workspaceId: "ws", bucket: "runs", vaultPath: "secret/codex", attemptTimeoutSeconds: 10 })
    )
  })

  it("sync on without a workspace: the sentence says what to set or unset", () => {
    assert.deepStrictEqual(refusal(cloudSyncSection, { CODEX_CLOUD_SYNC: "1", CODEX_CLOUD_WORKSPACE_ID: " " }), [
      "CODEX_CLOUD_WORKSPACE_ID",
      "CODEX_CLOUD_WORKSPACE_ID is not set, but cloud sync is on (CODEX_CLOUD_SYNC). Set CODEX_CLOUD_WORKSPACE_ID to " +
      "your Codex Cloud workspace id, or unset CODEX_CLOUD_SYNC to turn cloud sync off."
    ])
  })

  it("the subscriber grace is rounded to whole milliseconds", () => {
    const grace = (seconds: string) =>
      Duration.toMillis(value(engineSection, { CODEX_ORCHESTRATOR_SUBSCRIBER_GRACE_SECONDS: seconds }).subscriberGrace)
    assert.deepStrictEqual([grace("0.0004"), grace("0.0006"), grace("1.2345")], [0, 1, 1235])
  })
})
