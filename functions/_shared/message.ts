/**
 * Queue messages: small versioned JSON references to work, never pixel data.
 *
 * @module
 */
import { z } from "zod";
import { InputError } from "./errors.ts";
import { PROCESSES } from "./processes.ts";

/** The message format version this code writes and reads. */
export const MESSAGE_VERSION = 1;

const uuid = z.uuid();

/** The schema of a step message, version 1. */
export const StepMessageSchema = z.object({
  v: z.literal(MESSAGE_VERSION).describe("message format version"),
  step: z.enum(PROCESSES).describe("the step that should handle this message"),
  exposure_id: uuid.optional().describe("the exposure, for exposure-based steps"),
  section_id: z.string().min(1).max(32).optional().describe("the section (CCD) of the exposure"),
  image_id: uuid.optional().describe("the image, for image-based steps (coadds, references)"),
  provenance_tag: z.string().min(1).max(64).describe("the provenance tag to run under"),
  through_step: z.enum(PROCESSES).optional().describe("stop after this step"),
  trace_id: z.string().min(8).max(64).describe("ties every log line of one run together"),
  attempt: z.int().min(1).describe("how many times this work has been attempted"),
}).strict();

/** A step message. */
export type StepMessage = z.infer<typeof StepMessageSchema>;

/**
 * Parses a message body. A body that is not JSON, has an unknown version, or has a
 * bad field throws {@linkcode InputError} naming the field (`fields.field`).
 */
export function parseMessage(body: string): StepMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new InputError(`message is not JSON: ${(err as Error).message}`, { field: "(body)" });
  }
  const result = StepMessageSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.code === "unrecognized_keys"
      ? issue.keys.join(",")
      : issue.path.join(".") || "(body)";
    throw new InputError(`bad message field "${field}": ${issue.message}`, {
      field,
      issues: result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  return result.data;
}

/** Serialises a message after validating it (a bad message is never sent). */
export function formatMessage(message: StepMessage): string {
  return JSON.stringify(StepMessageSchema.parse(message));
}

/** A new random trace id (16 hex characters). */
export function newTraceId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
