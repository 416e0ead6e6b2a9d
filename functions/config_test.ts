import assert from "node:assert/strict";
import { ConfigError } from "./_shared/errors.ts";
import { DEFAULT_CONFIG_PATH } from "./_shared/config.ts";
import { ConfigSchema, loadConfig } from "./config.ts";
import { renderDefaults } from "../scripts/commands/config.ts";

async function overrideFile(text: string): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(path, text);
  return path;
}

Deno.test("config/default.yaml lists every parameter with its schema default", async () => {
  const text = await Deno.readTextFile(DEFAULT_CONFIG_PATH);
  assert.equal(
    text,
    renderDefaults(),
    "config/default.yaml is out of date: run `deno task skydiff config defaults > config/default.yaml`",
  );
  const loaded = await loadConfig({}, { overrides: null });
  assert.deepEqual(loaded, ConfigSchema.parse({}));
});

Deno.test("loadConfig layers defaults < override file < code overrides", async () => {
  const file = await overrideFile(
    "db:\n  pool_size: 9\nqueue:\n  kind: postgres\n  max_receives: 7\n",
  );
  const config = await loadConfig({ queue: { max_receives: 2 } }, { overrides: file });
  assert.equal(config.db.pool_size, 9);
  assert.equal(config.db.data_dir, "data/db", "untouched keys keep their defaults");
  assert.equal(config.queue.kind, "postgres");
  assert.equal(config.queue.max_receives, 2, "code overrides win over the file");
});

Deno.test("loadConfig reads the file named by SKYDIFF_CONFIG", async () => {
  const file = await overrideFile("log:\n  level: debug\n");
  Deno.env.set("SKYDIFF_CONFIG", file);
  try {
    assert.equal((await loadConfig()).log.level, "debug");
  } finally {
    Deno.env.delete("SKYDIFF_CONFIG");
  }
});

Deno.test("loadConfig names an unknown key and its file", async () => {
  const file = await overrideFile("storage:\n  s3:\n    bucket_name: x\n");
  await assert.rejects(() => loadConfig({}, { overrides: file }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.key, "storage.s3.bucket_name");
    assert.equal(err.file, file);
    assert.match(err.message, /unknown key "storage\.s3\.bucket_name"/);
    assert.ok(err.message.startsWith(file));
    return true;
  });
  await assert.rejects(
    async () => loadConfig({}, { overrides: await overrideFile("extracton: {}\n") }),
    /unknown key "extracton"/,
  );
});

Deno.test("loadConfig names a mistyped key and where it came from", async () => {
  const file = await overrideFile("queue:\n  visibility_seconds: soon\n");
  await assert.rejects(() => loadConfig({}, { overrides: file }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.key, "queue.visibility_seconds");
    assert.equal(err.file, file);
    return true;
  });
  await assert.rejects(
    () => loadConfig({ headersummary: { keywords: "EXPTIME" } }, { overrides: null }),
    (err: unknown) =>
      err instanceof ConfigError && err.file === "overrides passed in code" &&
      err.key === "headersummary.keywords",
  );
});

Deno.test("loadConfig rejects a file that is not a mapping or not YAML", async () => {
  await assert.rejects(
    async () => loadConfig({}, { overrides: await overrideFile("- a\n- b\n") }),
    /mapping of sections/,
  );
  await assert.rejects(
    async () => loadConfig({}, { overrides: await overrideFile("db: [unclosed\n") }),
    /not valid YAML/,
  );
  await assert.rejects(
    () => loadConfig({}, { overrides: "/nonexistent/skydiff.yaml" }),
    /cannot read config file/,
  );
});
