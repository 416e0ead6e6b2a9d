import assert from "node:assert/strict";
import { stringify } from "yaml";
import { synthesize } from "./app.ts";
import { BOOTSTRAP } from "./build_lambda.ts";

Deno.test("synthesize writes the cloud assembly of the stack infra/config.yaml names", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/function`);
    await Deno.writeTextFile(`${dir}/function/bootstrap`, BOOTSTRAP, { mode: 0o755 });
    await Deno.mkdir(`${dir}/layer/bin`, { recursive: true });
    await Deno.writeTextFile(`${dir}/layer/bin/deno`, "#!/bin/sh\n", { mode: 0o755 });
    await Deno.writeTextFile(
      `${dir}/infra.yaml`,
      stringify({
        stack_name: "skydiff-test",
        account: "123456789012",
        region: "ap-southeast-2",
        step_function: { memory_mb: 4096 },
        lambda: { asset_dir: `${dir}/function`, deno_layer_dir: `${dir}/layer` },
      }),
    );
    const { stack, assembly } = await synthesize({
      noBuild: true,
      outdir: `${dir}/out`,
      settingsPath: `${dir}/infra.yaml`,
    });
    assert.equal(stack.stackName, "skydiff-test");
    assert.equal(stack.region, "ap-southeast-2");
    const artifact = assembly.getStackByName("skydiff-test");
    const onDisk = JSON.parse(await Deno.readTextFile(`${dir}/out/${artifact.templateFile}`));
    const memory = Object.values(
      onDisk.Resources as Record<string, {
        Type: string;
        Properties: { MemorySize?: number; Runtime?: string };
      }>,
    ).filter((r) =>
      r.Type === "AWS::Lambda::Function" && r.Properties.Runtime === "provided.al2023"
    )
      .map((r) => r.Properties.MemorySize).sort();
    assert.deepEqual(memory, [1024, 4096], "ingest and step functions, step memory from the file");
    // the function code and the layer are staged as assets of the assembly
    const assets = JSON.parse(await Deno.readTextFile(`${dir}/out/skydiff-test.assets.json`));
    assert.ok(Object.keys(assets.files).length >= 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
