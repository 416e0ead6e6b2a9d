/**
 * The queryImages contract (functions/_shared/db/image_query_contract.ts) on the
 * real Postgres 15 of scripts/services.sh: a scratch database, migrated, dropped
 * after.
 */
import { imageQueryContract } from "../../functions/_shared/db/image_query_contract.ts";
import { migrate } from "../../functions/_shared/db/migrate.ts";
import { openScratchPostgres } from "../../functions/_shared/db/testing.ts";
import { requireService, serviceLabel } from "../services.ts";

const pg = requireService("postgres");

imageQueryContract(
  serviceLabel("postgres", pg),
  pg &&
    (async () => {
      const db = await openScratchPostgres(pg.url, { poolSize: 2 });
      await migrate(db);
      return db;
    }),
);
