/**
 * Packages skydiff for Lambda's custom runtime (provided.al2023), Deno in a layer:
 *
 * - the layer directory holds `bin/deno` (a Linux x86_64 Deno, by default the one
 *   running this script); Lambda unpacks layers under /opt, so it is /opt/bin/deno;
 * - the function directory holds `bootstrap` (the runtime entry Lambda executes),
 *   the sources the entry point needs (functions/, config/default.yaml, sql/,
 *   core-wasm/ with its built .wasm), deno.json, import_map.json (without the CDK
 *   packages), and `deno_dir/` + `deno.lock`: a Deno cache with every module and
 *   npm package the entry point imports, written by `deno cache` at build time.
 *
 * `bootstrap` copies `deno_dir` to /tmp once per execution environment (the task
 * root is read-only; Deno writes to its cache) and execs
 * `deno run --cached-only --frozen -A functions/lambda_main.ts`: nothing is
 * downloaded, and the lockfile is checked, never rewritten.
 *
 * The alternative is one `deno compile`d binary named `bootstrap` (no layer); it
 * needs the matching `denort` from dl.deno.land at build time.
 *
 * Usage: `deno run -A infra/build_lambda.ts [asset_dir] [layer_dir]`.
 *
 * @module
 */

/** The repository root. */
export const REPO_ROOT = new URL("../", import.meta.url).pathname;

/** The entry point, relative to the task root. */
export const ENTRY = "functions/lambda_main.ts";

/** Packages of the CDK app that the functions never import. */
export const INFRA_ONLY = ["aws-cdk-lib", "constructs"];

/** The bootstrap script Lambda runs. `SKYDIFF_DENO` and `SKYDIFF_DENO_DIR` exist for local runs. */
export const BOOTSTRAP = `#!/bin/sh
# skydiff custom runtime for AWS Lambda (provided.al2023): Deno from the layer (/opt/bin/deno).
set -eu
export DENO_DIR="\${SKYDIFF_DENO_DIR:-/tmp/deno_dir}"
if [ ! -f "$DENO_DIR/.complete" ]; then
  rm -rf "$DENO_DIR"
  cp -R "$LAMBDA_TASK_ROOT/deno_dir" "$DENO_DIR"
  touch "$DENO_DIR/.complete"
fi
export DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1
cd "$LAMBDA_TASK_ROOT"
exec "\${SKYDIFF_DENO:-/opt/bin/deno}" run --cached-only --frozen -A ${ENTRY}
`;

/** Options of {@linkcode buildLambdaAsset}. */
export interface BuildOptions {
  /** Where the function code goes (replaced). */
  assetDir: string;
  /** Where the layer goes (replaced). */
  layerDir: string;
  /** The Deno binary put in the layer. @default Deno.execPath() */
  denoPath?: string;
  /** The repository to package. @default REPO_ROOT */
  root?: string;
  /** Progress lines. @default console.error */
  say?: (line: string) => void;
}

/** What was built. */
export interface BuildResult {
  assetDir: string;
  layerDir: string;
  /** Bytes of the function directory (Lambda: at most 250 MB unzipped with its layers). */
  assetBytes: number;
  layerBytes: number;
}

async function copyTree(
  from: string,
  to: string,
  keep: (name: string) => boolean,
): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const src = `${from}/${entry.name}`;
    const dst = `${to}/${entry.name}`;
    if (entry.isDirectory) await copyTree(src, dst, keep);
    else if (entry.isFile && keep(entry.name)) await Deno.copyFile(src, dst);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) total += await treeBytes(path);
    else if (entry.isFile) total += (await Deno.stat(path)).size;
  }
  return total;
}

const notTest = (name: string) => !name.endsWith("_test.ts");

/** Builds the function directory and the Deno layer directory. */
export async function buildLambdaAsset(options: BuildOptions): Promise<BuildResult> {
  const root = (options.root ?? REPO_ROOT).replace(/\/$/, "");
  const say = options.say ?? ((line: string) => console.error(line));
  const { assetDir, layerDir } = options;
  // the infra-only packages stay out: Deno caches every npm package the import map names
  const importMap = JSON.parse(await Deno.readTextFile(`${root}/import_map.json`));
  for (const name of Object.keys(importMap.imports)) {
    if (INFRA_ONLY.some((pkg) => name === pkg || name.startsWith(`${pkg}/`))) {
      delete importMap.imports[name];
    }
  }
  const importMapText = JSON.stringify(importMap, null, 2);
  // a previous build's cache is reused while the import map is the same
  const previousMap = await Deno.readTextFile(`${assetDir}/import_map.json`).catch(() => "");
  const keep = previousMap === importMapText ? new Set(["deno_dir", "deno.lock"]) : new Set();
  if (await exists(assetDir)) {
    for await (const entry of Deno.readDir(assetDir)) {
      if (!keep.has(entry.name)) {
        await Deno.remove(`${assetDir}/${entry.name}`, { recursive: true });
      }
    }
  }
  await Deno.remove(layerDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(assetDir, { recursive: true });

  await Deno.copyFile(`${root}/deno.json`, `${assetDir}/deno.json`);
  await Deno.writeTextFile(`${assetDir}/import_map.json`, importMapText);
  await copyTree(`${root}/functions`, `${assetDir}/functions`, notTest);
  await copyTree(`${root}/sql`, `${assetDir}/sql`, (name) => name.endsWith(".sql"));
  await Deno.mkdir(`${assetDir}/config`, { recursive: true });
  await Deno.copyFile(`${root}/config/default.yaml`, `${assetDir}/config/default.yaml`);
  await copyTree(
    `${root}/core-wasm`,
    `${assetDir}/core-wasm`,
    (name) => (name.endsWith(".ts") && notTest(name)) || name.endsWith(".wasm"),
  );
  if (!(await exists(`${assetDir}/core-wasm/build/sd_core.wasm`))) {
    say("build_lambda: core-wasm/build has no .wasm (run `deno task build:wasm` first)");
  }
  await Deno.writeTextFile(`${assetDir}/bootstrap`, BOOTSTRAP, { mode: 0o755 });
  await Deno.chmod(`${assetDir}/bootstrap`, 0o755);

  say(`build_lambda: caching ${ENTRY} and its npm packages into ${assetDir}/deno_dir`);
  const cache = await new Deno.Command(Deno.execPath(), {
    args: ["cache", ENTRY],
    cwd: assetDir,
    env: { DENO_DIR: `${assetDir}/deno_dir`, DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!cache.success) {
    throw new Error(`deno cache failed:\n${new TextDecoder().decode(cache.stderr).slice(-2000)}`);
  }
  // Deno's SQLite analysis caches change on every run and are rebuilt in /tmp anyway:
  // leaving them out keeps the package (and so the deployed code's hash) unchanged
  // when nothing else changed
  for await (const entry of Deno.readDir(`${assetDir}/deno_dir`)) {
    if (entry.isFile && /_cache_v\d+(-shm|-wal)?$/.test(entry.name)) {
      await Deno.remove(`${assetDir}/deno_dir/${entry.name}`);
    }
  }

  await Deno.mkdir(`${layerDir}/bin`, { recursive: true });
  await Deno.copyFile(options.denoPath ?? Deno.execPath(), `${layerDir}/bin/deno`);
  await Deno.chmod(`${layerDir}/bin/deno`, 0o755);

  const result = {
    assetDir,
    layerDir,
    assetBytes: await treeBytes(assetDir),
    layerBytes: await treeBytes(layerDir),
  };
  const mb = (n: number) => (n / 1048576).toFixed(1);
  say(`build_lambda: function ${mb(result.assetBytes)} MB, layer ${mb(result.layerBytes)} MB`);
  return result;
}

if (import.meta.main) {
  const [
    assetDir = `${REPO_ROOT}infra/cdk.out/lambda-build/function`,
    layerDir = `${REPO_ROOT}infra/cdk.out/lambda-build/deno-layer`,
  ] = Deno.args;
  await buildLambdaAsset({ assetDir, layerDir });
}
