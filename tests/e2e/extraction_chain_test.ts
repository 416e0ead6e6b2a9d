/**
 * preprocessing -> extraction end to end on the embedded defaults (PGlite + a
 * directory + the in-process queue) and, when scripts/services.sh runs them, on
 * Postgres 15 + S3 (MinIO) + SQS (ElasticMQ), from a simulated raw SimCam exposure
 * with registered master bias and flat:
 *
 * - ingest queues one preprocessing message per section; the worker chains
 *   extraction and stops there (through_step); each section gets one image, one
 *   source list, one background and one PSF, rows and objects agreeing (md5);
 * - the source list finds the bright truth stars at their positions, and the
 *   PSF and background files decode to the rows' numbers;
 * - redelivered messages leave exactly one product per (input, provenance);
 * - bad inputs — a missing calibration, an unknown section, a NaN-filled and an
 *   all-zero section, a truncated file — give the typed error, a reports row and
 *   no product (no row, no object).
 */
import assert from "node:assert/strict";
import { DeleteQueueCommand } from "@aws-sdk/client-sqs";
import { markBad } from "../../functions/_shared/db/badness.ts";
import type { Db } from "../../functions/_shared/db/db.ts";
import { migrate } from "../../functions/_shared/db/migrate.ts";
import { reportSink } from "../../functions/_shared/db/reports.ts";
import {
  findBackground,
  findPsf,
  findTaggedSourceList,
} from "../../functions/_shared/db/sources.ts";
import { openMigratedPglite, openScratchPostgres } from "../../functions/_shared/db/testing.ts";
import { Header } from "../../functions/_shared/fits/header.ts";
import { readFits } from "../../functions/_shared/fits/reader.ts";
import { writeFits } from "../../functions/_shared/fits/writer.ts";
import { Logger } from "../../functions/_shared/log.ts";
import { formatMessage, type StepMessage } from "../../functions/_shared/message.ts";
import { decodeBackground } from "../../functions/_shared/products/background_file.ts";
import { decodePsf } from "../../functions/_shared/products/psf_file.ts";
import { decodeSourceList } from "../../functions/_shared/products/source_list_file.ts";
import { MemoryQueue } from "../../functions/_shared/queue/memory_queue.ts";
import { SqsQueue } from "../../functions/_shared/queue/sqs_queue.ts";
import type { Services } from "../../functions/_shared/runtime/handler.ts";
import { runWorker } from "../../functions/_shared/runtime/worker.ts";
import { exposureFits } from "../../functions/_shared/sim/output.ts";
import { FsObjectStore } from "../../functions/_shared/storage/fs_store.ts";
import { openObjectStore } from "../../functions/_shared/storage/open.ts";
import { ConfigSchema } from "../../functions/config.ts";
import { ingestObject } from "../../functions/ingest/ingest.ts";
import { registerMasters, simScience, simSetup } from "../../functions/preprocessing/_testing.ts";
import { HANDLERS } from "../../functions/steps.ts";
import { requireService } from "../services.ts";

const pg = requireService("postgres");
const s3 = requireService("s3");
const sqs = requireService("sqs");

const setup = simSetup({ nCcd: 2, frames: 3 });
const science = simScience(setup);
const rawBytes = exposureFits(science);

interface Env extends Services {
  db: Db;
  root: string;
  close(): Promise<void>;
}

async function env(): Promise<Env> {
  const db = await openMigratedPglite();
  const root = await Deno.makeTempDir();
  return {
    db,
    root,
    store: new FsObjectStore({ root }),
    queue: new MemoryQueue(`chain-${crypto.randomUUID()}`, {
      visibilitySeconds: 30,
      maxReceives: 3,
    }),
    async close() {
      await db.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}

async function work(e: Env, lines: string[] = []) {
  return await runWorker({
    ...e,
    handlers: HANDLERS,
    config: ConfigSchema.parse({}),
    log: new Logger({}, "debug", (line) => lines.push(line)),
    reports: reportSink(e.db),
    signal: new AbortController().signal,
    untilEmpty: true,
    retryDelaySeconds: 0,
  });
}

async function count(db: Db, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params);
  return row.n;
}

async function keys(e: Env, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const k of e.store.list(prefix)) out.push(k);
  return out;
}

const sections = setup.cam.sectionIds();

/** The chain on one environment: products, truth, badness, redelivery. */
async function chainOn(e: Env) {
  await registerMasters(e.db, e.store, setup);
  await e.store.put("raw/sci.fits", rawBytes);
  const ingest = await ingestObject(e, "raw/sci.fits", {
    firstStep: "preprocessing",
    throughStep: "extraction",
  });
  assert.deepEqual(ingest.messages.map((m) => m.section_id), sections);
  // an exposure marked bad before processing: its badness reaches every product
  await markBad(e.db, "exposures", ingest.exposureId, ["shaking"]);
  const stats = await work(e);
  assert.equal(stats.dead_lettered, 0);
  assert.equal(await count(e.db, "images"), 2);
  assert.equal(await count(e.db, "source_lists"), 2);
  assert.equal(await count(e.db, "backgrounds"), 2);
  assert.equal(await count(e.db, "psfs"), 2);
  assert.equal(await count(e.db, "reports WHERE status = 2"), 4, "4 succeeded reports");
  const shaking = 1 << 2; // BADNESS bit 2
  for (const table of ["images", "source_lists", "backgrounds", "psfs"]) {
    assert.equal(await count(e.db, `${table} WHERE _upstream_bitflag = $1`, [shaking]), 2);
  }

  for (const [k, sectionId] of sections.entries()) {
    const ccd = science.ccds[k];
    const [img] = await e.db.query<Record<string, unknown>>(
      `SELECT id, filepath, md5, preproc_bitflag, bkg_mean_estimate, fwhm_estimate, ra, dec,
                ra_corner_00, dec_corner_00 FROM images WHERE section_id = $1`,
      [sectionId],
    );
    assert.equal((await e.store.head(String(img.filepath)))?.md5, img.md5);
    // overscan, zero and flat were applied (PREPROCESSING bits 0, 1, 4)
    assert.equal(Number(img.preproc_bitflag), 1 | 2 | 16);
    // sky within 2% of the truth (the flat's median is 1), FWHM within 20% (first look)
    assert.ok(Math.abs(Number(img.bkg_mean_estimate) / ccd.skyE - 1) < 0.02);
    const truthCentre = ccd.wcs.crval; // the pointing; the CCD centre is off it
    assert.ok(Math.abs(Number(img.dec) - truthCentre[1]) < 0.5);
    const seeing = 1.1;
    assert.ok(Math.abs(Number(img.fwhm_estimate) / seeing - 1) < 0.2, `${img.fwhm_estimate}`);

    const [sl] = await e.db.query<Record<string, unknown>>(
      "SELECT id, filepath, md5, num_sources, aper_rads FROM source_lists WHERE image_id = $1",
      [img.id],
    );
    assert.equal((await e.store.head(String(sl.filepath)))?.md5, sl.md5);
    const list = await decodeSourceList(
      await readFits(await e.store.get(String(sl.filepath)), { name: "sources" }),
    );
    assert.equal(list.count, Number(sl.num_sources));
    assert.deepEqual(list.apertureRadii, (sl.aper_rads as number[]).map(Number));
    // bright truth stars are found within 0.5 px
    const bright = ccd.truth.filter((t) =>
      t.kind === "star" && t.mag < 21 && t.mag > 17 && t.x > 10 && t.y > 10 &&
      t.x < 502 && t.y < 1014
    );
    let found = 0;
    for (const t of bright) {
      for (let j = 0; j < list.count; j++) {
        if (Math.hypot(list.X[j] - t.x, list.Y[j] - t.y) < 0.5) {
          found++;
          break;
        }
      }
    }
    assert.ok(bright.length >= 10, `${bright.length} bright stars`);
    assert.ok(found >= 0.9 * bright.length, `${found} of ${bright.length} bright stars found`);

    // the repositories find the same rows (by tag, and by source list)
    assert.equal((await findTaggedSourceList(e.db, String(img.id), "default"))?.id, sl.id);
    const psfByRepo = await findPsf(e.db, String(sl.id));
    assert.equal(psfByRepo?.imageId, img.id);
    assert.equal((await findBackground(e.db, String(sl.id)))?.format, "mesh");
    const [psfRow] = await e.db.query<Record<string, unknown>>(
      "SELECT filepath, md5, fwhm_pixels FROM psfs WHERE sources_id = $1",
      [sl.id],
    );
    const psf = await decodePsf(
      await readFits(await e.store.get(String(psfRow.filepath), { md5: String(psfRow.md5) })),
    );
    assert.ok(Math.abs(psf.fwhm - Number(psfRow.fwhm_pixels)) < 1e-5);
    assert.equal(psfByRepo?.filepath, psfRow.filepath);
    const [bkRow] = await e.db.query<Record<string, unknown>>(
      "SELECT filepath, md5, value, noise FROM backgrounds WHERE sources_id = $1",
      [sl.id],
    );
    const bk = await decodeBackground(
      await readFits(await e.store.get(String(bkRow.filepath), { md5: String(bkRow.md5) })),
    );
    assert.ok(Math.abs(bk.global - Number(bkRow.value)) < 1e-3);
    assert.ok(Math.abs(bk.global / ccd.skyE - 1) < 0.02);
  }

  // redelivery: both messages of a section again -> nothing new
  const again: StepMessage[] = [
    { ...ingest.messages[0] },
    { ...ingest.messages[0], step: "extraction" },
  ];
  for (const m of again) await e.queue.send(formatMessage(m));
  const lines: string[] = [];
  const stats2 = await work(e, lines);
  assert.equal(stats2.acked, 3, "two redeliveries + the extraction the first one chains");
  assert.equal(await count(e.db, "images"), 2);
  assert.equal(await count(e.db, "source_lists"), 2);
  assert.equal(await count(e.db, "psfs"), 2);
  assert.equal(await count(e.db, "backgrounds"), 2);
  assert.ok(
    lines.filter((l) => JSON.parse(l).message === "step product already existed").length >= 3,
  );
  assert.equal((await keys(e, "image/")).length, 2);
  assert.equal((await keys(e, "sources/")).length, 2);
}

const serverEnv = pg && s3 && sqs
  ? async (): Promise<Env> => {
    const db = await openScratchPostgres(pg.url);
    await migrate(db);
    const queue = await SqsQueue.open(`chain-${crypto.randomUUID()}`, {
      endpoint: sqs.endpoint,
      accessKeyId: "skydiff",
      secretAccessKey: "skydiff",
      visibilitySeconds: 60,
      maxReceives: 3,
    });
    return {
      db,
      root: "",
      store: openObjectStore({
        kind: "s3",
        bucket: s3.bucket,
        prefix: `chain-${crypto.randomUUID()}/`,
        endpoint: s3.endpoint,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        forcePathStyle: true,
      }),
      queue,
      async close() {
        await queue.client.send(new DeleteQueueCommand({ QueueUrl: queue.url }));
        await queue.client.send(new DeleteQueueCommand({ QueueUrl: queue.deadLetterUrl }));
        await queue.close();
        await db.close();
      },
    };
  }
  : null;

for (
  const [label, factory] of [
    ["embedded: pglite + fs + memory queue", env],
    [`servers: ${pg?.description} + ${s3?.description} + ${sqs?.description}`, serverEnv],
  ] as const
) {
  Deno.test({
    name: `preprocessing + extraction chain [${label}${
      factory ? "" : " (ignored: servers not running)"
    }]: one product of each kind per section, matching truth`,
    ignore: factory === null,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const e = await factory!();
      try {
        await chainOn(e);
      } finally {
        await e.close();
      }
    },
  });
}

/** Runs the chain on a stored raw file and returns the preprocessing reports and the products left. */
async function runBad(
  bytes: Uint8Array,
  opts: { masters?: boolean; section?: string; corruptAfterIngest?: Uint8Array } = {},
) {
  const e = await env();
  try {
    if (opts.masters !== false) await registerMasters(e.db, e.store, setup);
    await e.store.put("raw/bad.fits", bytes);
    // a bad section id: register the exposure through headersummary, then send our message
    const ingest = await ingestObject(e, "raw/bad.fits", {
      firstStep: opts.section ? "headersummary" : "preprocessing",
      throughStep: "extraction",
    });
    if (opts.corruptAfterIngest) await e.store.put("raw/bad.fits", opts.corruptAfterIngest);
    if (opts.section) {
      await e.queue.send(formatMessage({
        ...ingest.messages[0],
        step: "preprocessing",
        section_id: opts.section,
      }));
    }
    const stats = await work(e);
    const reports = await e.db.query<{ status: number; error_type: string; error_message: string }>(
      "SELECT status, error_type, error_message FROM reports WHERE process = 2",
    );
    return {
      stats,
      reports,
      images: await count(e.db, "images"),
      objects: [...await keys(e, "image/"), ...await keys(e, "sources/")],
    };
  } finally {
    await e.close();
  }
}

/** The raw file with section 0's data replaced. */
function withSection0(data: Float32Array | Uint16Array): Uint8Array {
  const c0 = science.ccds[0];
  return writeFits([
    { header: Header.from(science.primary) },
    { header: Header.from(c0.cards), data, axes: [c0.rawNx, c0.rawNy], name: c0.id },
  ]);
}

Deno.test({
  name: "preprocessing: a missing master bias is an InputError naming it; no product",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const r = await runBad(rawBytes, { masters: false });
    assert.equal(r.stats.dead_lettered, 2);
    assert.equal(r.reports.length, 2);
    for (const rep of r.reports) {
      assert.equal(rep.status, 5, "input_error");
      assert.equal(rep.error_type, "InputError");
      assert.match(rep.error_message, /no zero calibrator for SimCam section/);
    }
    assert.equal(r.images, 0);
    assert.deepEqual(r.objects, []);
  },
});

Deno.test({
  name: "preprocessing: an unknown section is an InputError naming the sections the file has",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const r = await runBad(rawBytes, { section: "S30" });
    assert.equal(r.reports.length, 1);
    assert.equal(r.reports[0].status, 5);
    assert.ok(
      r.reports[0].error_message.endsWith(`no section S30 (the file has ${sections.join(", ")})`),
      r.reports[0].error_message,
    );
    assert.equal(r.images, 0);
    assert.deepEqual(r.objects, []);
  },
});

Deno.test({
  name: "preprocessing: NaN-filled and all-zero sections are AlgorithmErrors; no product",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const c0 = science.ccds[0];
    const nan = new Float32Array(c0.rawNx * c0.rawNy).fill(NaN);
    for (
      const [data, pattern] of [
        [nan, /NaN-filled/],
        [new Uint16Array(c0.rawNx * c0.rawNy), /every raw pixel is 0/],
      ] as const
    ) {
      const r = await runBad(withSection0(data));
      assert.equal(r.reports.length, 1);
      assert.equal(r.reports[0].status, 4, "algorithm_error");
      assert.equal(r.reports[0].error_type, "AlgorithmError");
      assert.match(r.reports[0].error_message, pattern);
      assert.equal(r.images, 0);
      assert.deepEqual(r.objects, []);
    }
  },
});

Deno.test({
  name: "preprocessing: a truncated raw file is an InputError naming the file; no product",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const truncated = rawBytes.slice(0, Math.floor(rawBytes.length * 0.4));
    const r = await runBad(rawBytes, { corruptAfterIngest: truncated });
    assert.equal(r.reports.length, 2);
    for (const rep of r.reports) {
      assert.equal(rep.status, 5);
      assert.match(rep.error_message, /raw\/bad\.fits/);
    }
    assert.equal(r.images, 0);
    assert.deepEqual(r.objects, []);
  },
});
