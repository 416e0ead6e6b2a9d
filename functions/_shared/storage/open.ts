/**
 * The object-store factory: a configuration section in, an adapter out.
 *
 * @module
 */
import { z } from "zod";
import type { ObjectStore } from "./object_store.ts";
import { FsObjectStore } from "./fs_store.ts";
import { S3ObjectStore } from "./s3_store.ts";

/** The `storage` configuration: a local directory or an S3 bucket. */
export const objectStoreConfigSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("fs"),
    root: z.string().min(1).describe("Directory holding the objects"),
    fsync: z.boolean().default(true).describe("fsync each object before it is renamed into place"),
  }).strict(),
  z.object({
    kind: z.literal("s3"),
    bucket: z.string().min(1).describe("Bucket name"),
    prefix: z.string().default("").describe("Prepended to every key"),
    endpoint: z.string().url().optional().describe("Endpoint of an S3-compatible server"),
    region: z.string().default("us-east-1").describe("AWS region"),
    accessKeyId: z.string().optional().describe("Static access key (else the SDK chain)"),
    secretAccessKey: z.string().optional().describe("Static secret key (else the SDK chain)"),
    forcePathStyle: z.boolean().optional().describe(
      "Path-style URLs (default: on with an endpoint)",
    ),
    partSize: z.number().int().min(5 * 1024 * 1024).default(16 * 1024 * 1024)
      .describe("Multipart part size in bytes; objects this large or larger go multipart"),
    partConcurrency: z.number().int().min(1).default(4).describe("Parts uploaded at once"),
  }).strict(),
]);

/** A parsed object-store configuration. */
export type ObjectStoreConfig = z.input<typeof objectStoreConfigSchema>;

/** Opens the object store a configuration names (validated with {@linkcode objectStoreConfigSchema}). */
export function openObjectStore(config: ObjectStoreConfig): ObjectStore {
  const c = objectStoreConfigSchema.parse(config);
  if (c.kind === "fs") return new FsObjectStore(c);
  return new S3ObjectStore(c);
}
