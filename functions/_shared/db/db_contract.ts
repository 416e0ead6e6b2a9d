/**
 * The contract every {@linkcode Db} adapter passes, as Deno tests:
 * `dbContract("pglite ...", open)` registers them, each test on a database of its
 * own that `open()` returns empty and that `close()` disposes of. With
 * `open === null` the tests are registered as ignored (the name says why).
 *
 * Test names read `db contract [<name>]: <what>`, so the output says which
 * server the suite ran against.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Db, Row } from "./db.ts";
import { DbError, isForeignKeyViolation, isUniqueViolation, SQLSTATE, sqlState } from "./errors.ts";
import { tryAdvisoryLock, withAdvisoryLock } from "./lock.ts";
import { listMigrations, migrate, MigrationError } from "./migrate.ts";
import { HEALPIX_ORDER, TABLES } from "./schema.ts";
import { enumCode, IMAGE_TYPE, PROCESS } from "./enums.ts";
import { ang2pixNest } from "../sky/healpix.ts";
import { angularSeparationDeg } from "../sky/angles.ts";
import { coneSearch } from "./cone.ts";

/** Opens an empty database for one test; `close()` disposes of it. */
export type OpenDb = () => Promise<Db>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise with its resolve function, to hand a signal between concurrent transactions. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((resolve) => (fire = resolve));
  return { promise, fire };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new assert.AssertionError({ message: "expected the promise to reject" });
}

/** A 20-character provenance id (the schema checks the length only). */
function provId(tag: string): string {
  return (tag.toUpperCase() + "A".repeat(20)).slice(0, 20);
}

/** Rows of the provenance chain exposure -> preprocessing used by the schema tests. */
async function seedProvenances(db: Db): Promise<{ exposure: string; preprocessing: string }> {
  const ids = { exposure: provId("EXPO"), preprocessing: provId("PREP") };
  for (const process of ["exposure", "preprocessing"] as const) {
    const cv = crypto.randomUUID();
    await db.query(
      `INSERT INTO code_versions (id, process, version, version_major, version_minor, version_patch)
       VALUES ($1, $2, '1.2.3', 1, 2, 3)`,
      [cv, enumCode(PROCESS, process)],
    );
    await db.query(
      `INSERT INTO provenances (id, process, code_version_id, parameters) VALUES ($1, $2, $3, $4)`,
      [ids[process], enumCode(PROCESS, process), cv, { threshold: 3, process }],
    );
  }
  await db.query(
    "INSERT INTO provenance_upstreams (downstream_id, upstream_id) VALUES ($1, $2)",
    [ids.preprocessing, ids.exposure],
  );
  return ids;
}

const MD5 = "0123456789abcdef0123456789abcdef";

async function seedExposure(db: Db, provenance: string): Promise<string> {
  const id = crypto.randomUUID();
  await db.query(
    `INSERT INTO exposures (id, provenance_id, instrument, telescope, mjd, exp_time, ra, dec,
       healpix, filepath, md5, header)
     VALUES ($1, $2, 'simcam', 'simscope', 60000.5, 30, 150.1, 2.2, $3, $4, $5, $6)`,
    [id, provenance, ang2pixNest(HEALPIX_ORDER, 150.1, 2.2), `raw/${id}.fits`, MD5, {
      EXPTIME: 30,
    }],
  );
  return id;
}

function insertImage(db: Db, p: {
  id?: string;
  exposureId: string | null;
  section: string | null;
  provenance: string;
  type?: string;
  componentsHash?: string;
}): Promise<Row[]> {
  const id = p.id ?? crypto.randomUUID();
  const [ra, dec] = [150.1, 2.2];
  return db.query(
    `INSERT INTO images (id, provenance_id, exposure_id, section_id, components_hash, type,
       instrument, telescope, filter, mjd, exp_time, width, height, ra, dec, healpix,
       ra_corner_00, ra_corner_01, ra_corner_10, ra_corner_11,
       dec_corner_00, dec_corner_01, dec_corner_10, dec_corner_11,
       minra, maxra, mindec, maxdec, filepath, md5)
     VALUES ($1, $2, $3, $4, $5, $6, 'simcam', 'simscope', 'r', 60000.5, 30, 2048, 4096,
       $7, $8, $9, 150.0, 150.0, 150.2, 150.2, 2.0, 2.4, 2.0, 2.4, 150.0, 150.2, 2.0, 2.4,
       $10, $11)
     RETURNING id, is_coadd, is_sub, created_at, modified_at`,
    [
      id,
      p.provenance,
      p.exposureId,
      p.section,
      p.componentsHash ?? null,
      enumCode(IMAGE_TYPE, p.type ?? "sci"),
      ra,
      dec,
      ang2pixNest(HEALPIX_ORDER, ra, dec),
      `images/${id}.fits`,
      MD5,
    ],
  );
}

/** Registers the Db contract tests for one adapter. */
export function dbContract(name: string, open: OpenDb | null): void {
  const test = (what: string, fn: (db: Db) => Promise<void>) =>
    Deno.test({
      name: `db contract [${name}]: ${what}`,
      ignore: open === null,
      // PGlite keeps its WASM instance and postgres.js its sockets between tests
      sanitizeResources: false,
      sanitizeOps: false,
      fn: async () => {
        const db = await open!();
        try {
          await fn(db);
        } finally {
          await db.close();
        }
      },
    });

  test("query: positional parameters, NULL and an empty result", async (db) => {
    const rows = await db.query<{ sum: number; label: string; nothing: null }>(
      "SELECT $1::integer + $2::integer AS sum, $3::text AS label, $4::text AS nothing",
      [40, 2, 'it\'s "quoted"; DROP TABLE x; --', null],
    );
    assert.deepStrictEqual(rows, [
      { sum: 42, label: 'it\'s "quoted"; DROP TABLE x; --', nothing: null },
    ]);
    assert.deepStrictEqual(await db.query("SELECT 1 AS one WHERE false"), []);
    // undefined is sent as NULL
    const [u] = await db.query("SELECT $1::text IS NULL AS is_null", [undefined]);
    assert.equal(u.is_null, true);
  });

  test("query: uuid, jsonb, bigint, float8, timestamptz, bytea and arrays round trip", async (db) => {
    await db.exec(`CREATE TABLE rt (
      id uuid PRIMARY KEY, j jsonb, ja jsonb, js jsonb, healpix bigint, big bigint, neg bigint,
      f float8, fa float8[], ts timestamptz, b bytea, t text[], ia bigint[], ok boolean,
      s smallint, n numeric, empty text[], flags boolean[], jarr jsonb, jsons jsonb[],
      i4 integer[])`);
    const id = crypto.randomUUID();
    const healpix = ang2pixNest(HEALPIX_ORDER, 359.99, -89.9);
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const when = new Date("2026-11-22T02:41:29.123Z");
    const json = {
      a: 1,
      nested: { b: [1, "two", null, true, 2.5e-8] },
      s: 'quote " and \\ backslash',
      u: "ünïcödé €",
    };
    const texts = ["plain", "with space", 'q"uo\\te', "comma,brace{}", "", null, "NULL", "ünï"];
    const floats = [0.1 + 0.2, 1e-310, -1.2345678901234567e300, NaN, Infinity, -Infinity, null];
    const params = [
      id,
      json,
      JSON.stringify([1, { x: 2 }]), // JSON text is taken as is
      JSON.stringify("a JSON string"),
      healpix,
      2n ** 62n + 1n,
      -(2n ** 53n),
      0.1 + 0.2,
      floats,
      when,
      bytes,
      texts,
      [1n, 2n ** 60n, null],
      true,
      -32768,
      "12345678901234567890.123456789",
      [],
      [true, false, null],
      [{ a: 1 }, 2, "x", null, [true]], // a top-level JSON array as a JS array
      [{ x: 1 }, { y: [2] }, null],
      [-2147483648, 2147483647],
    ];
    const expected = {
      id,
      j: json,
      ja: [1, { x: 2 }],
      js: "a JSON string",
      healpix,
      big: 2n ** 62n + 1n,
      neg: -(2n ** 53n),
      f: 0.30000000000000004,
      fa: floats,
      ts: when,
      b: bytes,
      t: texts,
      ia: [1, 2n ** 60n, null],
      ok: true,
      s: -32768,
      n: "12345678901234567890.123456789",
      empty: [],
      flags: [true, false, null],
      jarr: [{ a: 1 }, 2, "x", null, [true]],
      jsons: [{ x: 1 }, { y: [2] }, null],
      i4: [-2147483648, 2147483647],
    };
    const [returned] = await db.query(
      `INSERT INTO rt VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
        $16, $17, $18, $19, $20, $21) RETURNING *`,
      params,
    );
    assert.deepStrictEqual(returned, expected);
    const [row] = await db.query("SELECT * FROM rt WHERE id = $1", [id]);
    assert.deepStrictEqual(row, expected);
    assert.equal(typeof row.healpix, "number");
    assert.ok(row.healpix as number < 12 * 4 ** HEALPIX_ORDER);
    assert.equal(typeof row.big, "bigint");
    assert.equal((row.b as Uint8Array).constructor, Uint8Array);
    assert.ok(row.ts instanceof Date);
    // the server agrees with the values it was sent
    const [check] = await db.query(
      `SELECT j->'nested'->'b'->>1 AS two, big = 4611686018427387905 AS big_ok,
         length(b) AS nb, get_byte(b, 255) AS last, t[6] IS NULL AS null_elem, t[7] AS null_text,
         ts = '2026-11-22 02:41:29.123+00' AS ts_ok, cardinality(ia) AS nia
       FROM rt`,
    );
    assert.deepStrictEqual(check, {
      two: "two",
      big_ok: true,
      nb: 256,
      last: 255,
      null_elem: true,
      null_text: "NULL",
      ts_ok: true,
      nia: 3,
    });
  });

  test("query: bigint is a number when safe, a bigint beyond 2^53", async (db) => {
    const [row] = await db.query(
      `SELECT 9007199254740991::bigint AS max_safe, 9007199254740992::bigint AS past,
         (-9007199254740991)::bigint AS min_safe, count(*) AS n FROM (VALUES (1), (2)) v(x)`,
    );
    assert.deepStrictEqual(row, {
      max_safe: Number.MAX_SAFE_INTEGER,
      past: 9007199254740992n,
      min_safe: -Number.MAX_SAFE_INTEGER,
      n: 2,
    });
  });

  test("exec: runs several statements; query refuses two", async (db) => {
    await db.exec(`
      CREATE TABLE a (x integer);
      INSERT INTO a VALUES (1), (2);
      INSERT INTO a SELECT x + 10 FROM a;`);
    assert.deepStrictEqual(await db.query("SELECT x FROM a ORDER BY x"), [
      { x: 1 },
      { x: 2 },
      { x: 11 },
      { x: 12 },
    ]);
    const err = await rejection(db.query("SELECT 1; SELECT 2"));
    assert.ok(err instanceof DbError, String(err));
    assert.equal(err.code, SQLSTATE.syntaxError);
  });

  test("transaction: commits and returns fn's value", async (db) => {
    await db.exec("CREATE TABLE t (x integer)");
    const out = await db.transaction(async (tx) => {
      await tx.query("INSERT INTO t VALUES ($1)", [1]);
      const [r] = await tx.query<{ n: number }>("SELECT count(*) AS n FROM t");
      return r.n;
    });
    assert.equal(out, 1);
    assert.deepStrictEqual(await db.query("SELECT x FROM t"), [{ x: 1 }]);
  });

  test("transaction: a throw rolls back and rethrows the same error", async (db) => {
    await db.exec("CREATE TABLE t (x integer)");
    const boom = new Error("boom");
    const err = await rejection(db.transaction(async (tx) => {
      await tx.query("INSERT INTO t VALUES (1)");
      throw boom;
    }));
    assert.equal(err, boom);
    assert.deepStrictEqual(await db.query("SELECT x FROM t"), []);
    // a failing statement rolls back too, and surfaces as a DbError
    const sqlErr = await rejection(db.transaction(async (tx) => {
      await tx.query("INSERT INTO t VALUES (2)");
      await tx.query("INSERT INTO t VALUES ('not a number')");
    }));
    assert.equal(sqlState(sqlErr), "22P02");
    assert.deepStrictEqual(await db.query("SELECT x FROM t"), []);
    // and the Db is usable afterwards
    await db.transaction((tx) => tx.query("INSERT INTO t VALUES (3)"));
    assert.deepStrictEqual(await db.query("SELECT x FROM t"), [{ x: 3 }]);
  });

  test("transaction: a statement that failed fails the transaction, even when caught", async (db) => {
    await db.exec("CREATE TABLE t (x integer PRIMARY KEY)");
    const err = await rejection(db.transaction(async (tx) => {
      await tx.query("INSERT INTO t VALUES (1)");
      try {
        await tx.query("INSERT INTO t VALUES (1)");
      } catch {
        // swallowed: Postgres has aborted the transaction all the same
      }
      return "looks fine";
    }));
    assert.ok(isUniqueViolation(err), String(err));
    assert.deepStrictEqual(await db.query("SELECT x FROM t"), []);
  });

  test("transaction: the outer Db refuses statements inside its own transaction", async (db) => {
    await db.exec("CREATE TABLE t (x integer)");
    const err = await rejection(db.transaction(async (tx) => {
      await tx.query("INSERT INTO t VALUES (1)");
      await db.query("INSERT INTO t VALUES (2)"); // a bug: must use tx
    }));
    assert.match(String(err), /query\(\) on the Db inside its own transaction\(\)/);
    const nested = await rejection(db.transaction(() => db.transaction(() => Promise.resolve())));
    assert.match(String(nested), /transaction\(\) on the Db inside its own transaction/);
    assert.deepStrictEqual(await db.query("SELECT x FROM t"), []);
    // other callers (not inside the callback) still run, after or beside the transaction
    const holding = signal();
    const first = db.transaction(async (tx) => {
      holding.fire();
      await sleep(50);
      await tx.query("INSERT INTO t VALUES (3)");
    });
    await holding.promise;
    await db.query("INSERT INTO t VALUES (4)");
    await first;
    assert.deepStrictEqual(await db.query("SELECT x FROM t ORDER BY x"), [{ x: 3 }, { x: 4 }]);
  });

  test("transaction: a nested transaction is a savepoint", async (db) => {
    await db.exec("CREATE TABLE t (x integer)");
    await db.transaction(async (tx) => {
      await tx.query("INSERT INTO t VALUES (1)");
      const err = await rejection(tx.transaction(async (inner) => {
        await inner.query("INSERT INTO t VALUES (2)");
        await inner.query("INSERT INTO t VALUES (1 / 0)");
      }));
      assert.equal(sqlState(err), "22012");
      const kept = await tx.transaction(async (inner) => {
        await inner.query("INSERT INTO t VALUES (3)");
        return "kept";
      });
      assert.equal(kept, "kept");
    });
    assert.deepStrictEqual(await db.query("SELECT x FROM t ORDER BY x"), [{ x: 1 }, { x: 3 }]);
  });

  test("isUniqueViolation: recognises 23505 and its constraint, nothing else", async (db) => {
    await db.exec(`CREATE TABLE u (
      id integer CONSTRAINT u_pkey PRIMARY KEY,
      v integer CONSTRAINT u_v_positive CHECK (v > 0))`);
    await db.query("INSERT INTO u VALUES (1, 1)");
    const dup = await rejection(db.query("INSERT INTO u VALUES (1, 2)"));
    assert.ok(isUniqueViolation(dup));
    assert.ok(isUniqueViolation(dup, "u_pkey"));
    assert.ok(!isUniqueViolation(dup, "other_key"));
    assert.ok(dup instanceof DbError);
    assert.equal(dup.table, "u");
    assert.match(dup.detail ?? "", /\(id\)=\(1\)/);
    const check = await rejection(db.query("INSERT INTO u VALUES (2, -1)"));
    assert.ok(!isUniqueViolation(check));
    assert.equal(sqlState(check), SQLSTATE.checkViolation);
    assert.equal((check as DbError).constraint, "u_v_positive");
    assert.ok(!isUniqueViolation(new Error("23505")));
    assert.ok(!isUniqueViolation(await rejection(db.query("SELEC 1"))));
  });

  test("migrate: applies every sql/ file once, the whole schema exists, idempotent", async (db) => {
    const files = await listMigrations();
    assert.ok(files.length >= 1 && files[0].version === "0001", "sql/0001_*.sql exists");
    const first = await migrate(db);
    assert.deepStrictEqual(first.applied, files.map((f) => f.version));
    const again = await migrate(db);
    assert.deepStrictEqual(again.applied, []);
    assert.deepStrictEqual(again.alreadyApplied, files.map((f) => f.version));
    const tables = (await db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    )).map((r) => r.table_name);
    const missing = TABLES.filter((t) => !tables.includes(t));
    assert.deepStrictEqual(missing, [], `tables missing after migrate: ${missing.join(", ")}`);
    // every foreign key leads some index, so cascades do not scan whole tables; keys to
    // provenances are exempt (RESTRICT, and provenances are not deleted in operation)
    const unindexed = await db.query<{ fk: string }>(`
      SELECT c.conrelid::regclass::text || '.' || c.conname AS fk
      FROM pg_constraint c
      WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
        AND c.confrelid <> 'provenances'::regclass
        AND NOT EXISTS (SELECT 1 FROM pg_index i
                        WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])
      ORDER BY 1`);
    assert.deepStrictEqual(unindexed.map((r) => r.fk), []);
    const recorded = await db.query("SELECT version, checksum FROM schema_migrations ORDER BY 1");
    assert.deepStrictEqual(
      recorded,
      files.map((f) => ({ version: f.version, checksum: f.checksum })),
    );
  });

  test("migrate: refuses when an applied file changed, applies nothing", async (db) => {
    const dir = await Deno.makeTempDir({ prefix: "skydiff_migrate_" });
    try {
      await Deno.writeTextFile(`${dir}/0001_first.sql`, "CREATE TABLE first (x integer);");
      assert.deepStrictEqual((await migrate(db, { dir })).applied, ["0001"]);
      // older code (a directory without 0001) reports the newer migration, changes nothing
      const older = await Deno.makeTempDir({ prefix: "skydiff_migrate_" });
      try {
        assert.deepStrictEqual(await migrate(db, { dir: older }), {
          applied: [],
          alreadyApplied: [],
          unknown: ["0001"],
        });
      } finally {
        await Deno.remove(older);
      }
      await Deno.writeTextFile(`${dir}/0001_first.sql`, "CREATE TABLE first (x bigint);");
      await Deno.writeTextFile(`${dir}/0002_second.sql`, "CREATE TABLE second (x integer);");
      const err = await rejection(migrate(db, { dir }));
      assert.ok(err instanceof MigrationError, String(err));
      assert.match(err.message, /0001_first\.sql was changed after it was applied/);
      const [second] = await db.query("SELECT to_regclass('second')::text AS t");
      assert.equal(second.t, null, "0002 must not run when 0001 changed");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  test("migrate: a failing file is rolled back whole and not recorded", async (db) => {
    const dir = await Deno.makeTempDir({ prefix: "skydiff_migrate_" });
    try {
      await Deno.writeTextFile(`${dir}/0001_ok.sql`, "CREATE TABLE ok (x integer);");
      await Deno.writeTextFile(
        `${dir}/0002_bad.sql`,
        "CREATE TABLE half (x integer);\nCREATE TABLE broken (x no_such_type);",
      );
      const err = await rejection(migrate(db, { dir }));
      assert.ok(err instanceof MigrationError);
      assert.match(err.message, /0002_bad\.sql failed/);
      const rows = await db.query(
        `SELECT to_regclass('ok')::text AS ok, to_regclass('half')::text AS half,
           (SELECT string_agg(version, ',') FROM schema_migrations) AS versions`,
      );
      assert.deepStrictEqual(rows, [{ ok: "ok", half: null, versions: "0001" }]);
      // a bad file name is refused before anything runs
      await Deno.writeTextFile(`${dir}/3_no_number.sql`, "SELECT 1;");
      assert.ok(await rejection(migrate(db, { dir })) instanceof MigrationError);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  test("migrate: concurrent callers apply each file exactly once", async (db) => {
    const files = (await listMigrations()).map((f) => f.version);
    const results = await Promise.all([migrate(db), migrate(db), migrate(db)]);
    const applied = results.flatMap((r) => r.applied).sort();
    assert.deepStrictEqual(applied, files);
    for (const r of results) {
      assert.deepStrictEqual([...r.applied, ...r.alreadyApplied].sort(), files);
    }
    const [n] = await db.query<{ n: number }>("SELECT count(*) AS n FROM schema_migrations");
    assert.equal(n.n, files.length);
  });

  test("withAdvisoryLock: a second transaction on the key waits for the first", async (db) => {
    const events: string[] = [];
    const holding = signal();
    const first = db.transaction(async (tx) => {
      await withAdvisoryLock(tx, "contract:lock");
      events.push("first locked");
      holding.fire();
      await sleep(300);
      events.push("first done");
    });
    await holding.promise;
    const second = db.transaction(async (tx) => {
      await withAdvisoryLock(tx, "contract:lock");
      events.push("second locked");
    });
    await Promise.all([first, second]);
    assert.deepStrictEqual(events, ["first locked", "first done", "second locked"]);
  });

  test("withAdvisoryLock: other keys do not wait (postgres); PGlite is serial", async (db) => {
    const events: string[] = [];
    const holding = signal();
    const first = db.transaction(async (tx) => {
      await withAdvisoryLock(tx, "contract:a");
      events.push("first locked");
      holding.fire();
      await sleep(300);
      events.push("first done");
    });
    await holding.promise;
    const second = db.transaction(async (tx) => {
      await withAdvisoryLock(tx, "contract:b");
      events.push("second locked");
    });
    await Promise.all([first, second]);
    // With a pool, the other key is granted while the first transaction sleeps: this is
    // what makes the test above meaningful. PGlite has one connection: always serial.
    assert.deepStrictEqual(
      events,
      db.kind === "postgres"
        ? ["first locked", "second locked", "first done"]
        : ["first locked", "first done", "second locked"],
    );
  });

  test("tryAdvisoryLock: false while held elsewhere; locks need a transaction", async (db) => {
    await assert.rejects(withAdvisoryLock(db, "k"), /needs the tx of db.transaction/);
    await assert.rejects(tryAdvisoryLock(db, "k"), /needs the tx of db.transaction/);
    if (db.kind === "postgres") {
      const holding = signal();
      const release = signal();
      const first = db.transaction(async (tx) => {
        await withAdvisoryLock(tx, "contract:try");
        holding.fire();
        await release.promise;
      });
      await holding.promise;
      const whileHeld = await db.transaction((tx) => tryAdvisoryLock(tx, "contract:try"));
      release.fire();
      await first;
      assert.equal(whileHeld, false);
    }
    const free = await db.transaction((tx) => tryAdvisoryLock(tx, "contract:try"));
    assert.equal(free, true);
  });

  test("schema: racing inserts of one image leave one row and one unique violation", async (db) => {
    await migrate(db);
    const prov = await seedProvenances(db);
    const exposureId = await seedExposure(db, prov.exposure);
    const both = await Promise.allSettled([1, 2].map(() =>
      db.transaction(async (tx) => {
        await insertImage(tx, { exposureId, section: "N4", provenance: prov.preprocessing });
        await sleep(50); // hold the transaction open so the other one collides
      })
    ));
    const rejected = both.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    assert.equal(rejected.length, 1, "exactly one insert must lose");
    assert.ok(
      isUniqueViolation(rejected[0].reason, "images_exposure_section_provenance_key"),
      String(rejected[0].reason),
    );
    const [n] = await db.query<{ n: number }>("SELECT count(*) AS n FROM images");
    assert.equal(n.n, 1);
    // another section or another provenance is another product
    await insertImage(db, { exposureId, section: "N5", provenance: prov.preprocessing });
    await insertImage(db, { exposureId, section: "N4", provenance: prov.exposure });
  });

  test("schema: generated flags, modified_at trigger, CHECKs and cascades", async (db) => {
    await migrate(db);
    const prov = await seedProvenances(db);
    const exposureId = await seedExposure(db, prov.exposure);
    const [sci] = await insertImage(db, {
      exposureId,
      section: "S1",
      provenance: prov.preprocessing,
    });
    assert.deepStrictEqual([sci.is_coadd, sci.is_sub], [false, false]);
    const [coadd] = await insertImage(db, {
      exposureId: null,
      section: null,
      provenance: prov.preprocessing,
      type: "comsci",
      componentsHash: "abc",
    });
    assert.deepStrictEqual([coadd.is_coadd, coadd.is_sub], [true, false]);
    const [diff] = await insertImage(db, {
      exposureId: null,
      section: null,
      provenance: prov.preprocessing,
      type: "diff",
    });
    assert.deepStrictEqual([diff.is_coadd, diff.is_sub], [false, true]);
    // a second coadd of the same components and provenance is refused
    assert.ok(isUniqueViolation(
      await rejection(insertImage(db, {
        exposureId: null,
        section: null,
        provenance: prov.preprocessing,
        type: "comsci",
        componentsHash: "abc",
      })),
      "images_components_provenance_key",
    ));
    // modified_at follows updates (now() is the transaction start: a new transaction)
    await sleep(20);
    const [upd] = await db.query<{ created_at: Date; modified_at: Date }>(
      "UPDATE images SET _bitflag = $2 WHERE id = $1 RETURNING created_at, modified_at",
      [sci.id, 2 ** 41],
    );
    assert.ok(upd.modified_at.getTime() > upd.created_at.getTime());
    const [flag] = await db.query("SELECT _bitflag FROM images WHERE id = $1", [sci.id]);
    assert.equal(flag._bitflag, 2 ** 41);
    // CHECKs: healpix beyond order 12, malformed md5, provenance id length
    const badHealpix = await rejection(db.query(
      "UPDATE images SET healpix = $2 WHERE id = $1",
      [sci.id, 12 * 4 ** HEALPIX_ORDER],
    ));
    assert.equal((badHealpix as DbError).constraint, "images_healpix_range");
    const badMd5 = await rejection(
      db.query("UPDATE images SET md5 = 'XYZ' WHERE id = $1", [sci.id]),
    );
    assert.equal((badMd5 as DbError).constraint, "images_md5_format");
    const shortId = await rejection(db.query(
      "INSERT INTO provenances (id, process, code_version_id) SELECT 'SHORT', process, code_version_id FROM provenances LIMIT 1",
    ));
    assert.equal((shortId as DbError).constraint, "provenances_id_length");
    // deleting the exposure deletes its images; a used provenance cannot be deleted
    const fk = await rejection(db.query("DELETE FROM provenances WHERE id = $1", [prov.exposure]));
    assert.ok(isForeignKeyViolation(fk), String(fk));
    await db.query("DELETE FROM exposures WHERE id = $1", [exposureId]);
    const left = await db.query("SELECT id FROM images WHERE exposure_id IS NOT NULL");
    assert.deepStrictEqual(left, []);
  });

  test("schema: one provenance per process per tag, several for referencing", async (db) => {
    await migrate(db);
    const cv = crypto.randomUUID();
    const referencing = enumCode(PROCESS, "referencing");
    const extraction = enumCode(PROCESS, "extraction");
    await db.query(
      `INSERT INTO code_versions (id, process, version, version_major, version_minor, version_patch)
       VALUES ($1, $2, '0.1.0', 0, 1, 0)`,
      [cv, extraction],
    );
    const provs = ["EXTA", "EXTB", "REFA", "REFB"].map(provId);
    for (const p of provs) {
      await db.query(
        "INSERT INTO provenances (id, process, code_version_id) VALUES ($1, $2, $3)",
        [p, p.startsWith("EXT") ? extraction : referencing, cv],
      );
    }
    const tag = (p: string, process: number) =>
      db.query("INSERT INTO provenance_tags (tag, provenance_id, process) VALUES ('v1', $1, $2)", [
        p,
        process,
      ]);
    await tag(provs[0], extraction);
    assert.ok(isUniqueViolation(
      await rejection(tag(provs[1], extraction)),
      "provenance_tags_tag_process_key",
    ));
    await tag(provs[2], referencing);
    await tag(provs[3], referencing);
    // the tag's process must be its provenance's
    const wrong = await rejection(tag(provs[1], referencing));
    assert.equal(sqlState(wrong), SQLSTATE.foreignKeyViolation);
    assert.ok(isForeignKeyViolation(wrong));
    const [n] = await db.query<{ n: number }>("SELECT count(*) AS n FROM provenance_tags");
    assert.equal(n.n, 3);
    // ids not given by the client come from gen_random_uuid() (version 4)
    const ids = await db.query<{ id: string }>("SELECT id FROM provenance_tags");
    for (const { id } of ids) {
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    assert.equal(new Set(ids.map((r) => r.id)).size, 3);
  });

  test("coneSearch: the healpix range join finds exactly the objects in the cone", async (db) => {
    await migrate(db);
    // deterministic positions (xorshift32): clusters around three cone centres, one
    // across RA = 0 and one at the pole
    let x = 12345;
    const rand = () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x / 2 ** 32;
    };
    const cones = [
      { ra: 150.1, dec: 2.2, radius: 0.3 },
      { ra: 0.05, dec: -30, radius: 0.2 },
      { ra: 42, dec: 89.9, radius: 0.25 },
    ];
    const objects: { name: string; ra: number; dec: number }[] = [];
    for (const [c, cone] of cones.entries()) {
      for (let i = 0; i < 150; i++) {
        let ra: number, dec: number;
        if (cone.dec > 89) {
          // around the pole: uniform RA, within 0.6 degrees of the pole
          ra = rand() * 360;
          dec = 90 - rand() * 0.6;
        } else {
          dec = cone.dec + (rand() - 0.5) * 4 * cone.radius;
          ra = (cone.ra + (rand() - 0.5) * 4 * cone.radius / Math.cos(dec * Math.PI / 180) + 360) %
            360;
        }
        objects.push({ name: `c${c}o${i}`, ra, dec });
      }
    }
    await db.transaction(async (tx) => {
      for (const o of objects) {
        await tx.query(
          "INSERT INTO objects (name, ra, dec, healpix) VALUES ($1, $2, $3, $4)",
          [o.name, o.ra, o.dec, ang2pixNest(HEALPIX_ORDER, o.ra, o.dec)],
        );
      }
    });
    for (const cone of cones) {
      const expected = objects
        .map((o) => ({ name: o.name, sep: angularSeparationDeg(o.ra, o.dec, cone.ra, cone.dec) }))
        .filter((o) => o.sep <= cone.radius)
        .sort((a, b) => a.sep - b.sep);
      assert.ok(expected.length >= 10 && expected.length <= 140, `cone ${JSON.stringify(cone)}`);
      // no object sits so close to the edge that rounding could decide
      for (const o of objects) {
        const sep = angularSeparationDeg(o.ra, o.dec, cone.ra, cone.dec);
        assert.ok(Math.abs(sep - cone.radius) > 1e-9);
      }
      const found = await coneSearch<{ name: string }>(
        db,
        "objects",
        cone.ra,
        cone.dec,
        cone.radius,
      );
      assert.deepStrictEqual(found.map((r) => r.name), expected.map((o) => o.name));
      for (const [i, r] of found.entries()) {
        assert.ok(Math.abs(r.separation_deg - expected[i].sep) < 1e-9, "separation agrees");
      }
      const nearest = await coneSearch<{ name: string }>(
        db,
        "objects",
        cone.ra,
        cone.dec,
        cone.radius,
        {
          where: "t.name <> $6",
          params: [expected[0].name],
          limit: 2,
        },
      );
      assert.deepStrictEqual(nearest.map((r) => r.name), expected.slice(1, 3).map((o) => o.name));
    }
  });

  test("close: idempotent", async (db) => {
    await db.close();
    await db.close();
  });
}
