/**
 * coaddition handler: a message whose image_id names an existing coadd makes
 * (or finds) the coadd of the same components under the message's tag and
 * configuration (the message's tag is the coadd's tag: it holds the coaddition
 * provenance and the coadd's own chain) — the way to redo a coadd under a new
 * provenance through the queue — then names the extraction message of the result. New coadds are
 * asked for with makeCoadd (make.ts), from a list of zero points or a query.
 *
 * @module
 */
import { coaddComponents } from "../_shared/db/coadds.ts";
import { InputError } from "../_shared/errors.ts";
import type { Handler, HandlerOutcome } from "../_shared/runtime/handler.ts";
import { makeCoadd } from "./make.ts";

/** Handles a coaddition message (image_id: an existing coadd). */
export const handleCoaddition: Handler = async (ctx): Promise<HandlerOutcome> => {
  const m = ctx.message;
  if (!m.image_id) {
    throw new InputError("a coaddition message needs image_id (an existing coadd)", {
      field: "image_id",
    });
  }
  const zpIds = await coaddComponents(ctx.db, m.image_id);
  if (zpIds.length === 0) {
    throw new InputError(`image ${m.image_id} is not a coadd with components`, {
      field: "image_id",
    });
  }
  const result = await makeCoadd(ctx, { zpIds }, {
    provenanceTag: m.provenance_tag,
    coaddTag: m.provenance_tag,
    config: ctx.config,
    queueNext: false,
    traceId: m.trace_id,
  });
  const next = m.through_step === "coaddition" ? [] : [{
    ...m,
    step: "extraction" as const,
    image_id: result.imageId,
    attempt: 1,
  }];
  return {
    provenanceId: result.provenanceId,
    productId: result.imageId,
    reused: result.reused,
    metrics: result.metrics,
    next,
  };
};
