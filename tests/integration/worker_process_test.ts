/**
 * `skydiff worker` as a real process in server mode (Postgres 15 + MinIO +
 * the Postgres queue): it works a queued message, then stops cleanly on SIGTERM.
 */
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { createScratchDatabase } from "../../functions/_shared/db/testing.ts";
import { openPostgres } from "../../functions/_shared/db/postgres.ts";
import { migrate } from "../../functions/_shared/db/migrate.ts";
import { Header } from "../../functions/_shared/fits/header.ts";
import { writeFits } from "../../functions/_shared/fits/writer.ts";
import { PostgresQueue } from "../../functions/_shared/queue/postgres_queue.ts";
import { openObjectStore } from "../../functions/_shared/storage/open.ts";
import { ingestObject } from "../../functions/ingest/ingest.ts";
import { requireService } from "../services.ts";

const pg = requireService("postgres");
const s3 = requireService("s3");
const CLI = new URL("../../scripts/cli.ts", import.meta.url).pathname;

Deno.test({
  name: `skydiff worker [${pg?.description ?? "ignored: postgres not running"} + ${
    s3?.description ?? "s3 not running"
  }]: works the queue, stops on SIGTERM`,
  ignore: !pg || !s3,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const scratch = await createScratchDatabase(pg!.url);
    const db = openPostgres({ url: scratch.url, poolSize: 2 });
    const queueName = `worker-${crypto.randomUUID()}`;
    const dir = await Deno.makeTempDir();
    try {
      await migrate(db);
      const config = {
        db: { url: scratch.url, pool_size: 2 },
        storage: {
          kind: "s3",
          s3: {
            endpoint: s3!.endpoint,
            bucket: s3!.bucket,
            access_key_id: s3!.accessKeyId,
            secret_access_key: s3!.secretAccessKey,
          },
        },
        queue: { kind: "postgres", name: queueName },
        worker: { wait_seconds: 1 },
      };
      const configPath = `${dir}/skydiff.yaml`;
      await Deno.writeTextFile(configPath, stringify(config));
      const store = openObjectStore({
        kind: "s3",
        bucket: s3!.bucket,
        endpoint: s3!.endpoint,
        accessKeyId: s3!.accessKeyId,
        secretAccessKey: s3!.secretAccessKey,
        forcePathStyle: true,
      });
      const key = `raw/worker-${crypto.randomUUID()}.fits`;
      const primary = new Header().set("INSTRUME", "SimCam").set("TELESCOP", "SimScope")
        .set("EXPTIME", 10).set("MJD-OBS", 61001).set("RA", 1.5).set("DEC", -1.5);
      await store.put(key, writeFits([{ header: primary }]));
      const queue = new PostgresQueue(db, queueName);
      const { exposureId } = await ingestObject({ db, store, queue }, key, {
        firstStep: "headersummary",
      });

      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, "worker"],
        env: { SKYDIFF_CONFIG: configPath },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const lines: string[] = [];
      const reader = (async () => {
        const decoder = new TextDecoder();
        let rest = "";
        for await (const chunk of child.stdout) {
          rest += decoder.decode(chunk, { stream: true });
          const parts = rest.split("\n");
          rest = parts.pop()!;
          lines.push(...parts);
        }
      })();
      // wait (bounded) for the product the worker makes
      let done = false;
      for (let i = 0; i < 300 && !done; i++) {
        const rows = await db.query("SELECT 1 FROM header_summaries WHERE exposure_id = $1", [
          exposureId,
        ]);
        done = rows.length > 0;
        if (!done) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(done, "the worker process made the product");
      child.kill("SIGTERM");
      const status = await child.status;
      await reader;
      const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
      assert.equal(status.code, 0, `worker exit status; stderr:\n${stderr}`);
      const parsed = lines.map((l) => JSON.parse(l));
      assert.ok(parsed.some((l) => l.message === "step done" && l.step === "headersummary"));
      assert.ok(parsed.some((l) => /SIGTERM received/.test(l.message)));
      const stopped = parsed.find((l) => l.message === "worker stopped");
      assert.equal(stopped?.fields?.acked, 1);
      assert.equal(await queue.depth(), 0);
    } finally {
      await db.close();
      await scratch.drop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
