/**
 * The CDK app: `deno run -A infra/app.ts` synthesizes the stack into
 * infra/cdk.out/ (or $CDK_OUTDIR when the cdk CLI runs it:
 * `npx cdk deploy --app "deno run -A infra/app.ts"`). Builds the Lambda
 * package first when infra/cdk.out/lambda-build/ has none (infra/build_lambda.ts).
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

/** Builds the app (and the Lambda package when missing or `rebuild`); returns it synthesized. */
export async function synthesize(options: { rebuild?: boolean; outdir?: string } = {}) {
  const settings = await loadStackSettings();
  const assetDir = fromRoot(settings.infra.lambda.asset_dir);
  const denoLayerDir = fromRoot(settings.infra.lambda.deno_layer_dir);
  if (
    options.rebuild || !(await hasFile(`${assetDir}/bootstrap`)) ||
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
  const { stack, assembly } = await synthesize({ rebuild: Deno.args.includes("--rebuild") });
  const artifact = assembly.getStackByName(stack.stackName);
  console.error(
    `synthesized ${stack.stackName}: ${
      Object.keys(artifact.template.Resources ?? {}).length
    } resources in ${assembly.directory}`,
  );
}
