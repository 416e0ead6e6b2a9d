import assert from "node:assert/strict";
import { findService, parseEnvFile, requireService, serviceEnv, serviceLabel } from "./services.ts";

const ENV_TEXT = `# written by scripts/services.sh
SKYDIFF_TEST_PG_URL=postgres://postgres@127.0.0.1:55432/skydiff_test
SKYDIFF_TEST_PG_VERSION=15.20

SKYDIFF_TEST_S3_ENDPOINT=http://127.0.0.1:59000
SKYDIFF_TEST_S3_BUCKET=skydiff-test
SKYDIFF_TEST_S3_ACCESS_KEY=skydiff
SKYDIFF_TEST_S3_SECRET_KEY=a=b
SKYDIFF_TEST_S3_SERVER=minio
SKYDIFF_TEST_S3_VERSION=v0.0.0-2026
`;

Deno.test("parseEnvFile reads KEY=value lines, skipping blanks and comments", () => {
  const env = parseEnvFile(ENV_TEXT);
  assert.equal(env.SKYDIFF_TEST_PG_VERSION, "15.20");
  assert.equal(env.SKYDIFF_TEST_S3_SECRET_KEY, "a=b", "only the first = splits");
  assert.equal(Object.keys(env).length, 8);
});

Deno.test("findService types each server and describes it for test names", () => {
  const env = parseEnvFile(ENV_TEXT);
  const pg = findService("postgres", env)!;
  assert.equal(pg.url, "postgres://postgres@127.0.0.1:55432/skydiff_test");
  assert.equal(pg.description, "postgres 15.20 @127.0.0.1:55432");
  const s3 = findService("s3", env)!;
  assert.deepEqual(
    [s3.bucket, s3.accessKeyId, s3.secretAccessKey, s3.description],
    ["skydiff-test", "skydiff", "a=b", "s3 minio v0.0.0-2026 @127.0.0.1:59000"],
  );
  assert.equal(findService("sqs", env), null);
});

Deno.test("requireService is null outside CI and throws in CI when a server is absent", () => {
  const env = parseEnvFile(ENV_TEXT);
  assert.equal(requireService("sqs", env, false), null);
  assert.throws(() => requireService("sqs", env, true), /CI=true but sqs not running/);
  assert.equal(requireService("postgres", env, true)?.version, "15.20");
  assert.match(
    serviceLabel("sqs", null),
    /^ignored: sqs not running: start it with scripts\/services.sh start$/,
  );
});

Deno.test("serviceEnv lets the process environment override the env file", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, ENV_TEXT);
    Deno.env.set("SKYDIFF_TEST_PG_VERSION", "15.99");
    assert.equal(serviceEnv(file).SKYDIFF_TEST_PG_VERSION, "15.99");
    assert.equal(serviceEnv(file).SKYDIFF_TEST_S3_BUCKET, "skydiff-test");
    assert.equal(serviceEnv(`${file}.missing`).SKYDIFF_TEST_PG_VERSION, "15.99");
  } finally {
    Deno.env.delete("SKYDIFF_TEST_PG_VERSION");
    await Deno.remove(file);
  }
});
