/**
 * makeCoadd: a coadd from an explicit list of zero points, or from a query (ra,
 * dec, filter, optional MJD range: default the `window_days` days before now) of
 * the images under a provenance tag whose photocal zero point the tag holds.
 *
 * The provenance is coaddition's (code version, critical parameters) with the
 * inputs' photocal provenances as upstreams; the coadd's natural key is
 * (components_hash, provenance): asking again for the same inputs under the same
 * provenance returns the existing coadd. A new coadd is stored as an Image
 * product (`image/image/<coadd id>/<provenance>.image.fits`), an images row
 * (type "comsci", components_hash) and image_coadd_components rows in one
 * transaction; then extraction is queued for it (an `image_id` message) unless
 * `queueNext` is false. The HTTP API's job worker and RefMaker call this; the
 * "coaddition" step handler (handler.ts) recomputes a coadd named by image_id.
 *
 * Tags: the inputs are looked up under `provenanceTag`; the coadd and its chain
 * are tagged `coaddTag` (default `<provenanceTag>-coadd`), because a tag holds
 * one provenance per process and the coadd's extraction is not the inputs'.
 *
 * @module
 */
import { z } from "zod";
import {
  coaddImageId,
  componentsHash,
  findCoadd,
  insertCoaddComponents,
  setComponentsHash,
  taggedZeroPointsOfImages,
  type ZeroPointChain,
  zeroPointChains,
} from "../_shared/db/coadds.ts";
import type { Db } from "../_shared/db/db.ts";
import { isUniqueViolation } from "../_shared/db/errors.ts";
import { insertImage } from "../_shared/db/images.ts";
import { queryImages } from "../_shared/db/image_query.ts";
import { ensureProvenance, type Provenance, tagProvenance } from "../_shared/db/provenances.ts";
import { HEALPIX_ORDER } from "../_shared/db/schema.ts";
import { InputError } from "../_shared/errors.ts";
import { readFits } from "../_shared/fits/reader.ts";
import { formatMessage, newTraceId, type StepMessage } from "../_shared/message.ts";
import type { Process } from "../_shared/processes.ts";
import { decodeImage, encodeImage } from "../_shared/products/image_file.ts";
import { productKey } from "../_shared/products/keys.ts";
import type { Services } from "../_shared/runtime/handler.ts";
import { criticalParameters } from "../_shared/runtime/step.ts";
import { ang2pixNest } from "../_shared/sky/mod.ts";
import { type CoaddInput, type CoadditionParameters, coadditionStep } from "./step.ts";

/** Which images to coadd. */
export type CoaddSelection =
  | {
    /** The component zero-point ids. */
    zpIds: readonly string[];
  }
  | {
    /** A sky position the images must contain (deg). */
    ra: number;
    dec: number;
    /** `images.filter`. */
    filter: string;
    /** Images starting at or after this MJD. @default maxMjd - window_days */
    minMjd?: number;
    /** Images starting at or before this MJD. @default now */
    maxMjd?: number;
    /** @default any */
    instrument?: string | readonly string[];
    /** @default any */
    target?: string;
    /** @default any */
    sectionId?: string;
  };

/** Options of {@linkcode makeCoadd}. */
export interface MakeCoaddOptions {
  /** The provenance tag the inputs are looked up under. */
  provenanceTag: string;
  /**
   * The tag of the coadd: its coaddition provenance and its own extraction ->
   * photocal chain (a tag holds one provenance per process, and the coadd's
   * extraction differs from the inputs'). @default `${provenanceTag}-coadd`
   */
  coaddTag?: string;
  /** The validated configuration (its `coaddition` section is used). @default {} */
  config?: Record<string, unknown>;
  /** "Now" for the default time range. @default new Date() */
  now?: Date;
  /** Send the extraction message of a new coadd. @default true */
  queueNext?: boolean;
  /** Stop the coadd's chain after this step. @default none */
  throughStep?: Process;
  /** @default a new trace id */
  traceId?: string;
}

/** What {@linkcode makeCoadd} did. */
export interface CoaddResult {
  imageId: string;
  provenanceId: string;
  componentsHash: string;
  /** The component zero points, in input order (MJD, then id). */
  zpIds: string[];
  /** True when the coadd already existed. */
  reused: boolean;
  metrics: Record<string, number>;
  /** The messages sent (extraction of a new coadd). */
  sent: StepMessage[];
}

/** MJD of a Date. */
export function mjdOf(date: Date): number {
  return date.getTime() / 86400000 + 40587;
}

/** The zero-point ids a selection names, under a tag. */
export async function selectComponents(
  db: Db,
  selection: CoaddSelection,
  tag: string,
  params: Pick<CoadditionParameters, "window_days">,
  now: Date = new Date(),
): Promise<string[]> {
  if ("zpIds" in selection) return [...new Set(selection.zpIds)];
  const maxMjd = selection.maxMjd ?? mjdOf(now);
  const minMjd = selection.minMjd ?? maxMjd - params.window_days;
  const images = await queryImages({
    ra: selection.ra,
    dec: selection.dec,
    filter: selection.filter,
    minMjd,
    maxMjd,
    instrument: selection.instrument,
    target: selection.target,
    sectionId: selection.sectionId,
    provenanceTag: tag,
    type: "sci",
    goodOnly: true,
  }).run(db);
  const zps = await taggedZeroPointsOfImages(db, images.map((i) => i.id), tag);
  return images.flatMap((i) => (zps.has(i.id) ? [zps.get(i.id) as string] : []));
}

async function loadInput(services: Services, c: ZeroPointChain): Promise<CoaddInput> {
  const bytes = await services.store.get(c.image.filepath, { md5: c.image.md5 });
  return {
    id: c.zpId,
    image: await decodeImage(await readFits(bytes, { name: c.image.filepath })),
    wcs: c.wcsHeader,
    zp: c.zp,
    mjd: c.image.mjd,
    expTime: c.image.expTime,
  };
}

function median(v: number[]): number | null {
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

/** The coaddition provenance of components, tagged. */
async function coaddProvenance(
  db: Db,
  chains: ZeroPointChain[],
  params: CoadditionParameters,
  tag: string,
): Promise<Provenance> {
  const provenance = await ensureProvenance(db, {
    process: coadditionStep.process,
    codeVersion: coadditionStep.codeVersion,
    parameters: criticalParameters(coadditionStep, params),
    upstreams: [...new Set(chains.map((c) => c.zpProvenanceId))].sort(),
  });
  await tagProvenance(db, tag, provenance);
  return provenance;
}

/** Makes (or finds) the coadd of a selection; see the module doc. */
export async function makeCoadd(
  services: Services,
  selection: CoaddSelection,
  options: MakeCoaddOptions,
): Promise<CoaddResult> {
  const { db, store, queue } = services;
  const tag = options.provenanceTag;
  const coaddTag = options.coaddTag ?? `${tag}-coadd`;
  const params = coadditionStep.params.parse(options.config?.coaddition ?? {});
  const zpIds = await selectComponents(db, selection, tag, params, options.now);
  if (zpIds.length === 0) {
    throw new InputError("no calibrated images to coadd", { field: "selection", tag });
  }
  const chains = (await zeroPointChains(db, zpIds)).sort((a, b) =>
    a.image.mjd - b.image.mjd || (a.zpId < b.zpId ? -1 : a.zpId > b.zpId ? 1 : 0)
  );
  const provenance = await coaddProvenance(db, chains, params, coaddTag);
  const hash = await componentsHash(zpIds);
  const ordered = chains.map((c) => c.zpId);
  const existing = await findCoadd(db, hash, provenance.id);
  if (existing) {
    return {
      imageId: existing.id,
      provenanceId: provenance.id,
      componentsHash: hash,
      zpIds: ordered,
      reused: true,
      metrics: {},
      sent: [],
    };
  }
  const inputs = [];
  for (const c of chains) inputs.push(await loadInput(services, c));
  const center = "zpIds" in selection ? undefined : { ra: selection.ra, dec: selection.dec };
  const { outputs, metrics } = await coadditionStep.run({ inputs, center }, params, undefined);

  const id = await coaddImageId(hash, provenance.id);
  const key = productKey("image", { imageId: id }, provenance.id);
  const stored = await store.put(key, encodeImage(outputs.image), {
    contentType: "application/fits",
  });
  const { width, height, header } = outputs.image;
  const w = outputs.wcs;
  const centre = w.pixToSky((width - 1) / 2, (height - 1) / 2);
  const cs = [[0, 0], [0, height - 1], [width - 1, 0], [width - 1, height - 1]].map(([x, y]) =>
    w.pixToSky(x, y)
  );
  const first = chains[0].image;
  const skySigma = header.get("SKYSIGMA");
  let reused = false;
  try {
    await db.transaction(async (tx) => {
      await insertImage(tx, {
        id,
        provenanceId: provenance.id,
        exposureId: null,
        sectionId: null,
        type: "comsci",
        instrument: first.instrument,
        telescope: first.telescope,
        target: first.target,
        filter: first.filter,
        mjd: outputs.mjdStart,
        expTime: outputs.expTime,
        airmass: null,
        width,
        height,
        ra: centre.ra,
        dec: centre.dec,
        healpix: ang2pixNest(HEALPIX_ORDER, centre.ra, centre.dec),
        corners: {
          ra: cs.map((c) => c.ra) as [number, number, number, number],
          dec: cs.map((c) => c.dec) as [number, number, number, number],
        },
        fwhmEstimate: median(
          chains.flatMap((c) => (c.image.fwhmEstimate === null ? [] : [c.image.fwhmEstimate])),
        ),
        zeroPointEstimate: outputs.zp,
        limMagEstimate: null,
        bkgMeanEstimate: params.subtract_background ? 0 : null,
        bkgRmsEstimate: typeof skySigma === "number" ? skySigma : null,
        preprocBitflag: 0,
        header: {},
        info: {
          n_combine: outputs.nCombine,
          mjd_end: outputs.mjdEnd,
          components: ordered,
          n_empty: outputs.nEmpty,
        },
        bitflag: 0,
        upstreamBitflag: chains.reduce((s, c) => s | c.bitflag, 0),
        filepath: key,
        md5: stored.md5,
      });
      await setComponentsHash(tx, id, hash);
      await insertCoaddComponents(tx, id, zpIds);
    });
  } catch (err) {
    // the same coadd saved meanwhile by another worker: theirs stands
    if (!isUniqueViolation(err) || !(await findCoadd(db, hash, provenance.id))) throw err;
    reused = true;
  }
  const sent: StepMessage[] = [];
  if (!reused && options.queueNext !== false && options.throughStep !== "coaddition") {
    const message: StepMessage = {
      v: 1,
      step: "extraction",
      image_id: id,
      provenance_tag: coaddTag,
      trace_id: options.traceId ?? newTraceId(),
      attempt: 1,
      ...(options.throughStep ? { through_step: options.throughStep } : {}),
    };
    await queue.send(formatMessage(message));
    sent.push(message);
  }
  return {
    imageId: id,
    provenanceId: provenance.id,
    componentsHash: hash,
    zpIds: ordered,
    reused,
    metrics,
    sent,
  };
}

/** The JSON form of a selection (e.g. a job's request): zp_ids, or ra/dec/filter/min_mjd/max_mjd. */
export const CoaddSelectionSchema = z.union([
  z.object({ zp_ids: z.array(z.uuid()).min(1) }).strict(),
  z.object({
    ra: z.number().min(0).max(360),
    dec: z.number().min(-90).max(90),
    filter: z.string().min(1),
    min_mjd: z.number().optional(),
    max_mjd: z.number().optional(),
    instrument: z.string().optional(),
    target: z.string().optional(),
    section_id: z.string().optional(),
  }).strict(),
]);

/** A {@linkcode CoaddSelection} from its JSON form. */
export function parseCoaddSelection(json: unknown): CoaddSelection {
  const s = CoaddSelectionSchema.parse(json);
  if ("zp_ids" in s) return { zpIds: s.zp_ids };
  return {
    ra: s.ra,
    dec: s.dec,
    filter: s.filter,
    minMjd: s.min_mjd,
    maxMjd: s.max_mjd,
    instrument: s.instrument,
    target: s.target,
    sectionId: s.section_id,
  };
}
