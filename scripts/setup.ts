/**
 * `deno task setup`: installs what is missing and builds what is not built, so
 * that on a fresh Debian machine (node + npm + root) `deno task test` and
 * `deno task demo` work. Idempotent and quiet when there is nothing to do.
 *
 * - Debian packages: emscripten (the WASM build), gcc/make, and the reference
 *   tools the crossval tier compares against (SEP, astropy, healpy, photutils,
 *   SExtractor, SCAMP, PSFEx, fpack/funpack);
 * - the imaging core: `make -C core-wasm wasm native`;
 * - Deno's npm dependencies, cached.
 *
 * Flags: `--no-apt` skips package installs (report what is missing instead),
 * `--runtime` installs only what the pipeline itself needs (no reference tools).
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url).pathname;

/** Debian packages by the file whose presence shows they are installed. */
const RUNTIME_PACKAGES: Record<string, string> = {
  "/usr/bin/emcc": "emscripten",
  "/usr/bin/make": "make",
  "/usr/bin/gcc": "gcc",
};
const REFERENCE_PACKAGES: Record<string, string> = {
  "/usr/lib/python3/dist-packages/sep.cpython-311-x86_64-linux-gnu.so": "python3-sep",
  "/usr/lib/python3/dist-packages/astropy": "python3-astropy",
  "/usr/lib/python3/dist-packages/healpy": "python3-healpy",
  "/usr/lib/python3/dist-packages/photutils": "python3-photutils",
  "/usr/bin/source-extractor": "source-extractor",
  "/usr/bin/scamp": "scamp",
  "/usr/bin/psfex": "psfex",
  "/usr/bin/funpack": "libcfitsio-bin",
};

function say(message: string): void {
  console.error(`[setup] ${message}`);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function run(cmd: string[], options: { cwd?: string; quiet?: boolean } = {}): Promise<void> {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: options.cwd ?? ROOT,
    stdout: options.quiet ? "piped" : "inherit",
    stderr: options.quiet ? "piped" : "inherit",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  });
  const result = await child.output();
  if (!result.success) {
    const tail = options.quiet ? new TextDecoder().decode(result.stderr).slice(-2000) : "";
    throw new Error(`${cmd.join(" ")} failed with code ${result.code}\n${tail}`);
  }
}

async function installPackages(wanted: Record<string, string>, apt: boolean): Promise<void> {
  const missing = [
    ...new Set(Object.entries(wanted).filter(([p]) => !exists(p)).map(([, n]) => n)),
  ];
  if (missing.length === 0) return;
  if (!apt) {
    throw new Error(
      `missing Debian packages: ${missing.join(" ")} (install them, or run without --no-apt)`,
    );
  }
  if (Deno.uid() !== 0) throw new Error(`need root to install ${missing.join(" ")}`);
  say(`apt-get install ${missing.join(" ")} (this takes a few minutes the first time)`);
  try {
    await run(["apt-get", "install", "-y", "-q", ...missing], { quiet: true });
  } catch {
    await run(["apt-get", "update", "-q"], { quiet: true });
    await run(["apt-get", "install", "-y", "-q", ...missing], { quiet: true });
  }
}

/** Runs the whole setup. */
export async function setup(options: { apt: boolean; references: boolean }): Promise<void> {
  await installPackages(RUNTIME_PACKAGES, options.apt);
  if (options.references) await installPackages(REFERENCE_PACKAGES, options.apt);
  say("building the imaging core (make -C core-wasm wasm native)");
  await run(["make", "-s", "-C", "core-wasm", "wasm", "native"], { quiet: true });
  say("caching npm dependencies");
  await run([Deno.execPath(), "cache", "--quiet", "scripts/cli.ts", "tests/figure.ts"], {
    quiet: true,
  });
  say("ready");
}

if (import.meta.main) {
  await setup({
    apt: !Deno.args.includes("--no-apt"),
    references: !Deno.args.includes("--runtime"),
  });
}
