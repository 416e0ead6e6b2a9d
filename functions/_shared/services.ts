/**
 * Opens the three interfaces a step sees — `Db`, `ObjectStore`, `Queue` — from
 * the configuration's db, storage and queue sections. Nothing else in the
 * pipeline knows which mode it runs in.
 *
 * @module
 */
import { openDb } from "./db/open.ts";
import { migrate } from "./db/migrate.ts";
import type { Services } from "./runtime/handler.ts";
import { openQueue } from "./queue/open.ts";
import type { z } from "zod";
import type { DbSettings, QueueSettings, StorageSettings } from "./settings.ts";
import { openObjectStore } from "./storage/open.ts";

/** The sections {@linkcode openServices} reads. */
export interface ServiceSettings {
  db: z.infer<typeof DbSettings>;
  storage: z.infer<typeof StorageSettings>;
  queue: z.infer<typeof QueueSettings>;
}

/** Options of {@linkcode openServices}. */
export interface OpenServicesOptions {
  /** Apply pending migrations first (embedded mode does; servers use `skydiff migrate`). @default false */
  migrate?: boolean;
}

const orUndefined = (value: string) => (value === "" ? undefined : value);

/** Opens db, object store and step queue; `close()` releases all three. */
export async function openServices(
  settings: ServiceSettings,
  options: OpenServicesOptions = {},
): Promise<Services & { close(): Promise<void> }> {
  const { db: dbs, storage, queue: qs } = settings;
  const db = await openDb({
    url: orUndefined(dbs.url),
    dataDir: dbs.data_dir === "memory" ? undefined : dbs.data_dir,
    memory: dbs.data_dir === "memory",
    poolSize: dbs.pool_size,
  });
  try {
    if (options.migrate) await migrate(db);
    const store = storage.kind === "fs"
      ? openObjectStore({ kind: "fs", root: storage.root })
      : openObjectStore({
        kind: "s3",
        bucket: storage.s3.bucket,
        endpoint: orUndefined(storage.s3.endpoint),
        region: storage.s3.region,
        accessKeyId: orUndefined(storage.s3.access_key_id),
        secretAccessKey: orUndefined(storage.s3.secret_access_key),
        forcePathStyle: storage.s3.force_path_style,
        partSize: Math.round(storage.s3.part_size_mb * 1024 * 1024),
      });
    const common = { visibilitySeconds: qs.visibility_seconds, maxReceives: qs.max_receives };
    const queue = qs.kind === "sqs"
      ? await openQueue({
        kind: "sqs",
        ...common,
        endpoint: orUndefined(qs.sqs.endpoint),
        region: qs.sqs.region,
        accessKeyId: orUndefined(qs.sqs.access_key_id),
        secretAccessKey: orUndefined(qs.sqs.secret_access_key),
      }, qs.name)
      : await openQueue({ kind: qs.kind, ...common }, qs.name, { db });
    return {
      db,
      store,
      queue,
      async close() {
        await queue.close();
        await db.close();
      },
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}
