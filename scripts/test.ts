/**
 * `deno task test`: the whole test suite, from a fresh machine.
 *
 * 1. setup (packages, the imaging core, npm cache);
 * 2. `deno task check`-equivalent: fmt --check, lint, type check;
 * 3. the native C tests of the core, under AddressSanitizer and UBSan;
 * 4. the real servers of the integration tier (scripts/services.sh start);
 * 5. `deno test` over the repository: unit tests beside the code, integration and
 *    e2e tests in tests/, and crossval/quality figures on small inputs.
 *
 * Ends with one line "N passed, N failed". Extra arguments go to `deno test`
 * (e.g. a path to run a subset). `--no-services` skips step 4 (integration tests
 * then report themselves ignored, except under CI=true where they fail).
 *
 * @module
 */
import { setup } from "./setup.ts";
import { findService } from "../tests/services.ts";

const ROOT = new URL("../", import.meta.url).pathname;

function say(message: string): void {
  console.error(`[test] ${message}`);
}

async function step(name: string, cmd: string[]): Promise<string> {
  say(name);
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let out = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    out += decoder.decode(chunk, { stream: true });
    await Deno.stdout.write(chunk);
  }
  const status = await child.status;
  if (!status.success) throw new StepFailed(name, out);
  return out;
}

class StepFailed extends Error {
  constructor(readonly stepName: string, readonly output: string) {
    super(`${stepName} failed`);
  }
}

/** "ok | 12 passed (3 steps) | 0 failed | 2 ignored" -> counts. */
function summarise(output: string): { passed: number; failed: number; ignored: number } | null {
  // deno test colours its summary; strip ANSI escapes first
  // deno-lint-ignore no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const match = /(?:ok|FAILED) \| (\d+) passed[^|]*\| (\d+) failed(?: \| (\d+) ignored)?/.exec(
    plain,
  );
  if (!match) return null;
  return { passed: Number(match[1]), failed: Number(match[2]), ignored: Number(match[3] ?? 0) };
}

async function main(args: string[]): Promise<number> {
  const withServices = !args.includes("--no-services");
  const testArgs = args.filter((a) => a !== "--no-services");
  const deno = Deno.execPath();
  let cTests = { passed: 0, failed: 0 };
  try {
    await setup({ apt: true, references: true });
    await step("fmt --check", [deno, "fmt", "--check"]);
    await step("lint", [deno, "lint"]);
    await step("type check", [deno, "check", "."]);
    const cOut = await step("native C tests (ASan + UBSan)", [
      "make",
      "-s",
      "-C",
      "core-wasm",
      "test",
    ]);
    cTests = { passed: (cOut.match(/^== /gm) ?? []).length, failed: 0 };
  } catch (err) {
    if (err instanceof StepFailed) {
      console.log(`0 passed, 1 failed`);
      say(`${err.stepName} failed: fix it and rerun`);
      return 1;
    }
    throw err;
  }

  if (withServices) {
    await step("starting the real servers (scripts/services.sh start)", [
      "bash",
      "scripts/services.sh",
      "start",
    ]);
    const running = (["postgres", "s3", "sqs"] as const)
      .map((name) => findService(name)?.description ?? `${name}: not running`);
    say(`integration tier runs against: ${running.join("; ")}`);
  }

  let output = "";
  let ok = true;
  try {
    output = await step("deno test", [deno, "test", "-A", "--quiet", ...testArgs]);
  } catch (err) {
    if (!(err instanceof StepFailed)) throw err;
    output = err.output;
    ok = false;
  }
  const counts = summarise(output);
  if (!counts) {
    console.log(`0 passed, 1 failed`);
    say("could not read deno test's summary");
    return 1;
  }
  const passed = counts.passed + cTests.passed;
  const failed = counts.failed + cTests.failed;
  console.log(`${passed} passed, ${failed} failed, ${counts.ignored} skipped`);
  return ok && failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
