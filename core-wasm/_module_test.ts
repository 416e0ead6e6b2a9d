import assert from "node:assert/strict";
import { CoreError, getCore, loadCore, STATUS_NAMES } from "./_module.ts";
import { sigmaClippedStats } from "./stats.ts";

Deno.test("getCore loads both variants once; every export is declared in sd_core.h", () => {
  const header = Deno.readTextFileSync(new URL("./include/sd_core.h", import.meta.url));
  const declared = new Set([...header.matchAll(/^sd_status\s+(sd_\w+)\s*\(/gm)].map((m) => m[1]));
  for (const variant of ["simd", "scalar"] as const) {
    const core = getCore(variant);
    assert.equal(getCore(variant), core);
    const exported = core.functions();
    for (const fn of exported) assert.ok(declared.has(fn), `${fn} is exported but not declared`);
    for (const fn of ["sd_alloc", "sd_free", "sd_stats_clipped", "sd_background_mesh"]) {
      assert.ok(exported.includes(fn), `${fn} is not exported`);
    }
  }
});

Deno.test("STATUS_NAMES matches the status codes of sd_core.h", () => {
  const header = Deno.readTextFileSync(new URL("./include/sd_core.h", import.meta.url));
  for (const m of header.matchAll(/^#define (SD_(?:OK|ERR_\w+)) (\d+)/gm)) {
    assert.equal(STATUS_NAMES[Number(m[2])], m[1]);
  }
});

Deno.test("Core.call throws CoreError naming the function and status", () => {
  const core = getCore();
  assert.throws(() => core.alloc(0), (e) => {
    assert.ok(e instanceof CoreError);
    assert.equal(e.fn, "sd_alloc");
    assert.equal(e.statusName, "SD_ERR_ARG");
    return true;
  });
  assert.throws(() => core.call("sd_alloc", 16, 0), /sd_alloc failed: SD_ERR_ARG/);
});

Deno.test("Core.scope copies data in and out and frees everything: 1000 calls do not grow memory", () => {
  const core = getCore();
  const n = 100_000;
  const data = new Float32Array(n).map((_, i) => i * 0.5);
  const roundtrip = () =>
    core.scope((s) => {
      const p = s.copyIn(data);
      const q = s.f32(n);
      return [s.readF32(p, n), s.readF32(q, n)];
    });
  roundtrip(); // warm up the allocator
  sigmaClippedStats(data);
  const before = core.memoryBytes;
  for (let i = 0; i < 1000; i++) {
    const [back, zeros] = roundtrip();
    assert.equal(sigmaClippedStats(data).median, 24_999.75);
    if (i === 999) {
      assert.deepEqual(back, data);
      assert.ok(zeros.every((v) => v === 0));
    }
  }
  assert.equal(core.memoryBytes, before);
});

Deno.test("Core.read returns copies that survive memory growth", () => {
  const core = getCore();
  const copy = core.scope((s) => s.readF32(s.copyIn(new Float32Array([1, 2, 3])), 3));
  const big = core.alloc(64 * 1024 * 1024); // forces growth past the initial 16 MB
  core.free(big);
  assert.deepEqual(Array.from(copy), [1, 2, 3]);
});

Deno.test("loadCore tells how to build the core when the .wasm is missing", () => {
  const missing = new URL("./build/no_such_core.wasm", import.meta.url);
  assert.throws(() => loadCore(missing, "simd"), /deno task build:wasm/);
});
