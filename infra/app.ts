/**
 * The CDK app: `deno run -A infra/app.ts` synthesizes the stack into
 * infra/cdk.out/ (or $CDK_OUTDIR when the cdk CLI runs it:
 * `npx cdk deploy --app "deno run -A infra/app.ts" --output infra/cdk.out`).
 * Packages the functions first (infra/build_lambda.ts; under a second when only
 * sources changed), so what is deployed is the working tree; `--no-build` reuses
 * the package in infra/cdk.out/lambda-build/ when there is one.
 *
 * @module
 */
import { App } from "aws-cdk-lib";
import { buildLambdaAsset, REPO_ROOT } from "./build_lambda.ts";
import { loadStackSettings } from "./config.ts";
import { SkydiffStack } from "./stack.ts";

function fromRoot(path: string): string {
  return path.startsWith("/") ? path : `${REPO_ROOT}${path}`;
}

async function hasFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Options of {@linkcode synthesize}. */
export interface SynthOptions {
  /** Reuse the Lambda package when there is one. @default false */
  noBuild?: boolean;
  /** The cloud assembly's directory. @default $CDK_OUTDIR, else infra/cdk.out */
  outdir?: string;
  /** The infra settings file. @default $SKYDIFF_INFRA_CONFIG, else infra/config.yaml */
  settingsPath?: string;
}

/** Packages the functions (unless `noBuild` and a package exists) and synthesizes the app. */
export async function synthesize(options: SynthOptions = {}) {
  const settings = await loadStackSettings(options.settingsPath);
  const assetDir = fromRoot(settings.infra.lambda.asset_dir);
  const denoLayerDir = fromRoot(settings.infra.lambda.deno_layer_dir);
  if (
    !options.noBuild || !(await hasFile(`${assetDir}/bootstrap`)) ||
    !(await hasFile(`${denoLayerDir}/bin/deno`))
  ) {
    await buildLambdaAsset({ assetDir, layerDir: denoLayerDir });
  }
  // the cdk CLI passes its output directory in CDK_OUTDIR, which App reads itself
  const outdir = options.outdir ??
    (Deno.env.get("CDK_OUTDIR") ? undefined : `${REPO_ROOT}infra/cdk.out`);
  const app = new App({ outdir });
  const account = settings.infra.account || Deno.env.get("CDK_DEFAULT_ACCOUNT");
  const region = settings.infra.region || Deno.env.get("CDK_DEFAULT_REGION");
  const stack = new SkydiffStack(app, settings.infra.stack_name, {
    settings,
    assetDir,
    denoLayerDir,
    env: account || region ? { account, region } : undefined,
    description: "skydiff: transient discovery pipeline (cloud mode)",
  });
  return { app, stack, assembly: app.synth() };
}

if (import.meta.main) {
  const { stack, assembly } = await synthesize({ noBuild: Deno.args.includes("--no-build") });
  const artifact = assembly.getStackByName(stack.stackName);
  console.error(
    `synthesized ${stack.stackName}: ${
      Object.keys(artifact.template.Resources ?? {}).length
    } resources in ${assembly.directory}`,
  );
}
