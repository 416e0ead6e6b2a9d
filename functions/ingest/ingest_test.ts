import assert from "node:assert/strict";
import { reportSink } from "../_shared/db/reports.ts";
import { openMigratedPglite } from "../_shared/db/testing.ts";
import { Header } from "../_shared/fits/header.ts";
import { writeFits } from "../_shared/fits/writer.ts";
import { parseMessage } from "../_shared/message.ts";
import { MemoryQueue } from "../_shared/queue/memory_queue.ts";
import { FsObjectStore } from "../_shared/storage/fs_store.ts";
import { ingestObject } from "./ingest.ts";

/** A SimCam-like raw file: sections named by EXTNAME, DETPOS or CCDNUM, plus a non-CCD extension. */
function raw(): Uint8Array {
  const primary = Header.from([
    ["INSTRUME", "SimCam"],
    ["TELESCOP", "SimScope"],
    ["FILTER", "r"],
    ["EXPTIME", 30],
    ["MJD-OBS", 61000.5],
    ["RA", 150.25],
    ["DEC", 2.5],
  ]);
  const px = new Uint16Array(16 * 8);
  return writeFits([
    { header: primary },
    { name: "N4", data: px, axes: [16, 8] },
    { header: Header.from([["DETPOS", "S7"]]), data: px, axes: [16, 8], name: "CCD2" },
    { header: Header.from([["CCDNUM", 1]]), data: px, axes: [16, 8], name: "CCD3" },
    { name: "GUIDER", data: px, axes: [16, 8] },
  ]);
}

async function env() {
  const db = await openMigratedPglite();
  const root = await Deno.makeTempDir();
  const store = new FsObjectStore({ root });
  const queue = new MemoryQueue(`ingest-${crypto.randomUUID()}`);
  return {
    db,
    store,
    queue,
    async close() {
      await db.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}

Deno.test("ingestObject: a per-section first step gets one message per CCD section of the file", async () => {
  const e = await env();
  try {
    await e.store.put("raw/a.fits", raw());
    const r = await ingestObject(e, "raw/a.fits", {
      firstStep: "preprocessing",
      throughStep: "extraction",
    });
    assert.equal(r.created, true);
    // DECam's CCDNUM 1 is S29; the guider extension is not a section
    assert.deepEqual(r.messages.map((m) => m.section_id), ["N4", "S7", "S29"]);
    assert.ok(
      r.messages.every((m) => m.step === "preprocessing" && m.through_step === "extraction"),
    );
    const queued = await e.queue.receive({ max: 10 });
    assert.deepEqual(
      queued.map((q) => parseMessage(q.body).section_id).sort(),
      ["N4", "S29", "S7"],
    );
    for (const q of queued) await e.queue.ack(q);
    // headersummary is one message per exposure
    await e.store.put("raw/b.fits", raw());
    const b = await ingestObject(e, "raw/b.fits", { firstStep: "headersummary" });
    assert.equal(b.messages.length, 1);
    assert.equal(b.messages[0].section_id, undefined);
  } finally {
    await e.close();
  }
});

Deno.test("ingestObject: a repeated event re-queues only the sections that never reported", async () => {
  const e = await env();
  try {
    await e.store.put("raw/a.fits", raw());
    const first = await ingestObject(e, "raw/a.fits", { firstStep: "preprocessing" });
    const sink = reportSink(e.db);
    await sink({
      message: first.messages[1],
      outcome: "done",
      runtimeMs: 1,
      peakMemoryMb: 1,
      warnings: [],
      metrics: {},
    });
    const again = await ingestObject(e, "raw/a.fits", { firstStep: "preprocessing" });
    assert.equal(again.created, false);
    assert.deepEqual(again.messages.map((m) => m.section_id), ["N4", "S29"]);
  } finally {
    await e.close();
  }
});
