/**
 * The Db contract against the real Postgres 15 that scripts/services.sh started:
 * every test on a scratch database of its own (created and dropped here), with
 * and without named prepared statements.
 */
import { dbContract } from "../../functions/_shared/db/db_contract.ts";
import { openScratchPostgres } from "../../functions/_shared/db/testing.ts";
import { requireService, serviceLabel } from "../services.ts";

const pg = requireService("postgres");

dbContract(serviceLabel("postgres", pg), pg && (() => openScratchPostgres(pg.url)));

// as behind a transaction-mode pooler (PgBouncer, RDS Proxy): no named prepared statements
dbContract(
  `${serviceLabel("postgres", pg)} prepare=false`,
  pg && (() => openScratchPostgres(pg.url, { prepare: false })),
);
