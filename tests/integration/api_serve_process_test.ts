/**
 * `skydiff serve --port 0` as a process on server-mode configuration (the real
 * Postgres 15: a scratch database for metadata and the jobs queue; an fs store):
 * it logs where it listens, answers /health and POST /coadds (the job message
 * lands in the Postgres queue `<queue.name>-jobs`), and exits 0 on SIGTERM.
 */
import assert from "node:assert/strict";
import { migrate } from "../../functions/_shared/db/migrate.ts";
import { openScratchPostgres } from "../../functions/_shared/db/testing.ts";
import { requireService, serviceLabel } from "../services.ts";

const pg = requireService("postgres");
const CLI = new URL("../../scripts/cli.ts", import.meta.url).pathname;

Deno.test({
  name: `skydiff serve [${serviceLabel("postgres", pg)}]: listens, serves, SIGTERM exits 0`,
  ignore: !pg,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await openScratchPostgres(pg!.url, { poolSize: 1 });
    const dir = await Deno.makeTempDir({ prefix: "skydiff_serve_" });
    let child: Deno.ChildProcess | undefined;
    try {
      await migrate(db);
      const name = (await db.query<{ n: string }>("SELECT current_database() AS n"))[0].n;
      const dbUrl = new URL(pg!.url);
      dbUrl.pathname = `/${name}`;
      const queueName = `serve-${crypto.randomUUID().slice(0, 8)}`;
      const config = `${dir}/config.yaml`;
      await Deno.writeTextFile(
        config,
        [
          `db: { url: "${dbUrl}" }`,
          `storage: { kind: fs, root: "${dir}/store" }`,
          `queue: { kind: postgres, name: ${queueName} }`,
        ].join("\n") + "\n",
      );
      child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, "serve", "--port", "0"],
        env: { SKYDIFF_CONFIG: config },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(child.stderr).text();
      // read log lines until the listening one
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let buffered = "", base = "";
      const deadline = Date.now() + 120_000;
      while (!base) {
        if (Date.now() > deadline) throw new Error("serve did not start in 120 s");
        const { value, done } = await reader.read();
        if (done) throw new Error(`serve exited early: ${await stderr}`);
        buffered += value;
        for (const line of buffered.split("\n").slice(0, -1)) {
          const parsed = JSON.parse(line);
          if (parsed.message === "api listening") base = parsed.fields.url.replace(/\/$/, "");
        }
        buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
      }
      const drain = (async () => {
        while (!(await reader.read()).done) { /* keep the pipe flowing */ }
      })();

      const health = await (await fetch(`${base}/health`)).json();
      assert.equal(health.status, "ok");
      assert.equal(health.checks.db.kind, "postgres");
      assert.equal(health.checks.queue.name, `${queueName}-jobs`);
      const res = await fetch(`${base}/coadds`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ra: 12, dec: 34, filter: "z" }),
      });
      assert.equal(res.status, 202);
      const job = await res.json();
      const queued = await db.query<{ body: string }>(
        "SELECT body FROM queue_messages WHERE queue = $1",
        [`${queueName}-jobs`],
      );
      assert.equal(queued.length, 1);
      assert.equal(JSON.parse(queued[0].body).job_id, job.id);
      const bad = await fetch(`${base}/jobs/${crypto.randomUUID()}`);
      assert.equal(bad.status, 404);
      assert.equal(bad.headers.get("content-type"), "application/problem+json");
      await bad.body?.cancel();

      child.kill("SIGTERM");
      const status = await child.status;
      child = undefined;
      await drain;
      assert.equal(status.code, 0, await stderr);
    } finally {
      if (child) {
        child.kill("SIGKILL");
        await child.status;
      }
      await db.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
