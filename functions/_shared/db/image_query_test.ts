/**
 * queryImages on a migrated in-memory PGlite (the contract in
 * image_query_contract.ts; tests/integration runs it on Postgres 15).
 */
import { imageQueryContract } from "./image_query_contract.ts";
import { openMigratedPglite } from "./testing.ts";

imageQueryContract("pglite", openMigratedPglite);
