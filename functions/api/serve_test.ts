/**
 * parseServeArgs, and serveApi on an ephemeral port over PGlite + fs store +
 * in-process queue: answers over HTTP and stops when its signal aborts.
 */
import assert from "node:assert/strict";
import { openMigratedPglite } from "../_shared/db/testing.ts";
import { Logger } from "../_shared/log.ts";
import { MemoryQueue } from "../_shared/queue/memory_queue.ts";
import { FsObjectStore } from "../_shared/storage/fs_store.ts";
import { parseServeArgs, serveApi } from "./serve.ts";

Deno.test("parseServeArgs: defaults, --port, --hostname; bad values throw", () => {
  assert.deepEqual(parseServeArgs([]), { port: 8080, hostname: "127.0.0.1" });
  assert.deepEqual(parseServeArgs(["--port", "0", "--hostname", "0.0.0.0"]), {
    port: 0,
    hostname: "0.0.0.0",
  });
  assert.throws(() => parseServeArgs(["--port", "70000"]), /0\.\.65535/);
  assert.throws(() => parseServeArgs(["--port", "x"]), /0\.\.65535/);
  assert.throws(() => parseServeArgs(["--port"]), /needs a value/);
  assert.throws(() => parseServeArgs(["--verbose"]), /unknown option/);
});

Deno.test({
  name: "serveApi: serves the app on port 0 and stops on abort",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const db = await openMigratedPglite();
    const root = await Deno.makeTempDir({ prefix: "skydiff_serve_" });
    const stop = new AbortController();
    try {
      const listening = Promise.withResolvers<Deno.NetAddr>();
      const server = serveApi({
        db,
        store: new FsObjectStore({ root }),
        jobs: new MemoryQueue("serve-test-jobs"),
        log: new Logger({}, "error", () => {}),
      }, { port: 0, signal: stop.signal, onListen: listening.resolve });
      const addr = await listening.promise;
      assert.ok(addr.port > 0);
      const res = await fetch(`http://127.0.0.1:${addr.port}/health`);
      assert.equal(res.status, 200);
      assert.equal((await res.json()).checks.queue.name, "serve-test-jobs");
      const missing = await fetch(`http://127.0.0.1:${addr.port}/images/${crypto.randomUUID()}`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
      stop.abort();
      await server.finished;
      await assert.rejects(fetch(`http://127.0.0.1:${addr.port}/health`));
    } finally {
      stop.abort();
      await db.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
