import assert from "node:assert/strict";
import { App, assertions } from "aws-cdk-lib";
import { deepMerge } from "../functions/_shared/config.ts";
import { ConfigSchema } from "../functions/config.ts";
import { BOOTSTRAP } from "./build_lambda.ts";
import {
  checkSettings,
  InfraConfigError,
  parseInfraConfig,
  type StackSettings,
  VISIBILITY_TO_TIMEOUT,
} from "./config.ts";
import { FUNCTION_ENV, SkydiffStack } from "./stack.ts";

const { Template, Match } = assertions;
type Json = Record<string, unknown>;

/** Settings as a deployment would write them: pipeline values away from their defaults. */
function settings(infra: Json = {}, pipeline: Json = {}): StackSettings {
  const config = ConfigSchema.parse(deepMerge({
    queue: { name: "sky-steps", max_receives: 5, visibility_seconds: 1200 },
    worker: { batch_size: 4 },
  }, pipeline));
  return checkSettings({
    infra: parseInfraConfig(infra),
    pipeline: {
      queue: config.queue,
      worker: config.worker,
      log: config.log,
      pipeline: config.pipeline,
    },
  });
}

/** Synthesizes the stack with small stand-in code directories (the package is tested elsewhere). */
async function synth(s: StackSettings) {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/function`);
  await Deno.writeTextFile(`${dir}/function/bootstrap`, BOOTSTRAP, { mode: 0o755 });
  await Deno.mkdir(`${dir}/layer/bin`, { recursive: true });
  await Deno.writeTextFile(`${dir}/layer/bin/deno`, "#!/bin/sh\n", { mode: 0o755 });
  try {
    const app = new App({ outdir: `${dir}/out` });
    const stack = new SkydiffStack(app, "test", {
      settings: s,
      assetDir: `${dir}/function`,
      denoLayerDir: `${dir}/layer`,
      env: { account: "123456789012", region: "eu-west-1" },
    });
    const template = Template.fromStack(stack);
    return { stack, template, json: template.toJSON() as { Resources: Record<string, Json> } };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const defaults = await synth(settings());

function logicalId(stack: SkydiffStack, construct: { node: { defaultChild?: unknown } }): string {
  // deno-lint-ignore no-explicit-any
  return stack.getLogicalId(construct.node.defaultChild as any);
}

function resourcesOf(json: { Resources: Record<string, Json> }, type: string): [string, Json][] {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type).map((
    [id, r],
  ) => [id, r.Properties as Json]);
}

Deno.test("SkydiffStack: the step queue redrives to its DLQ after queue.max_receives", () => {
  const { stack, template } = defaults;
  const dlq = logicalId(stack, stack.deadLetterQueue);
  template.hasResourceProperties("AWS::SQS::Queue", {
    QueueName: "sky-steps",
    VisibilityTimeout: 1200,
    RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": [dlq, "Arn"] }, maxReceiveCount: 5 },
  });
  template.hasResourceProperties("AWS::SQS::Queue", {
    QueueName: "sky-steps-dlq",
    MessageRetentionPeriod: 14 * 86400,
  });
});

Deno.test("SkydiffStack: the SQS event source reports batch item failures, batch size from config", () => {
  const { stack, template } = defaults;
  template.resourceCountIs("AWS::Lambda::EventSourceMapping", 1);
  template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
    EventSourceArn: { "Fn::GetAtt": [logicalId(stack, stack.stepQueue), "Arn"] },
    FunctionName: { Ref: logicalId(stack, stack.stepFunction) },
    FunctionResponseTypes: ["ReportBatchItemFailures"],
    BatchSize: 4,
    ScalingConfig: { MaximumConcurrency: 50 },
  });
});

Deno.test("SkydiffStack: queue visibility is at least 6x the step function timeout", () => {
  const { stack, json } = defaults;
  const queue = json.Resources[logicalId(stack, stack.stepQueue)].Properties as Json;
  const fn = json.Resources[logicalId(stack, stack.stepFunction)].Properties as Json;
  assert.equal(fn.Timeout, 150);
  assert.ok(
    (queue.VisibilityTimeout as number) >= VISIBILITY_TO_TIMEOUT * (fn.Timeout as number),
    `visibility ${queue.VisibilityTimeout} s vs timeout ${fn.Timeout} s`,
  );
  // a longer timeout than the visibility allows is refused before synthesis
  assert.throws(
    () => settings({ step_function: { timeout_seconds: 201 } }),
    (err: Error) =>
      err instanceof InfraConfigError && /visibility_seconds \(1200\).*1206/.test(err.message),
  );
  settings({ step_function: { timeout_seconds: 200 } }); // 6 x 200 = 1200: allowed
});

Deno.test("SkydiffStack: raw bucket ObjectCreated notifies the ingest function", () => {
  const { stack, template } = defaults;
  const ingest = logicalId(stack, stack.ingestFunction);
  const raw = logicalId(stack, stack.rawBucket);
  template.hasResourceProperties("Custom::S3BucketNotifications", {
    BucketName: { Ref: raw },
    NotificationConfiguration: {
      LambdaFunctionConfigurations: [".fits", ".fits.fz", ".fits.gz"].map((suffix) => ({
        Events: ["s3:ObjectCreated:*"],
        Filter: { Key: { FilterRules: [{ Name: "suffix", Value: suffix }] } },
        LambdaFunctionArn: { "Fn::GetAtt": [ingest, "Arn"] },
      })),
    },
  });
  template.hasResourceProperties("AWS::Lambda::Permission", {
    Action: "lambda:InvokeFunction",
    Principal: "s3.amazonaws.com",
    FunctionName: { "Fn::GetAtt": [ingest, "Arn"] },
    SourceArn: { "Fn::GetAtt": [raw, "Arn"] },
  });
  // failed S3-triggered invocations end in the ingest failure queue
  template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
    FunctionName: { Ref: ingest },
    MaximumRetryAttempts: 2,
    DestinationConfig: {
      OnFailure: {
        Destination: { "Fn::GetAtt": [logicalId(stack, stack.ingestFailures), "Arn"] },
      },
    },
  });
});

Deno.test("SkydiffStack: alarms on DLQ depth, ingest failures, queue age and function errors", () => {
  const { stack, template } = defaults;
  const topic = { Ref: logicalId(stack, stack.alarmTopic) };
  const queueName = (q: { node: { defaultChild?: unknown } }) => ({
    "Fn::GetAtt": [logicalId(stack, q), "QueueName"],
  });
  template.resourceCountIs("AWS::CloudWatch::Alarm", 5);
  for (const q of [stack.deadLetterQueue, stack.ingestFailures]) {
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: queueName(q) }],
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
      AlarmActions: [topic],
    });
  }
  template.hasResourceProperties("AWS::CloudWatch::Alarm", {
    MetricName: "ApproximateAgeOfOldestMessage",
    Dimensions: [{ Name: "QueueName", Value: queueName(stack.stepQueue) }],
    Threshold: 3600,
    ComparisonOperator: "GreaterThanThreshold",
  });
  for (const fn of [stack.stepFunction, stack.ingestFunction]) {
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "AWS/Lambda",
      MetricName: "Errors",
      Dimensions: [{ Name: "FunctionName", Value: { Ref: logicalId(stack, fn) } }],
      Statistic: "Sum",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      AlarmActions: [topic],
    });
  }
});

Deno.test("SkydiffStack: RDS Postgres 15 in isolated subnets, reachable from the functions only", () => {
  const { stack, template, json } = defaults;
  template.hasResourceProperties("AWS::RDS::DBInstance", {
    Engine: "postgres",
    EngineVersion: "15",
    DBInstanceClass: "db.t4g.medium",
    DBName: "skydiff",
    PubliclyAccessible: false,
    StorageEncrypted: true,
    DeletionProtection: true,
  });
  template.resourceCountIs("AWS::SecretsManager::Secret", 1);
  const fnSg =
    resourcesOf(json, "AWS::EC2::SecurityGroup").find(([, p]) =>
      p.GroupDescription === "skydiff functions"
    )![0];
  template.hasResourceProperties("AWS::EC2::SecurityGroupIngress", {
    IpProtocol: "tcp",
    SourceSecurityGroupId: { "Fn::GetAtt": [fnSg, "GroupId"] },
    FromPort: { "Fn::GetAtt": [logicalId(stack, stack.database), "Endpoint.Port"] },
  });
  const dbSubnets = resourcesOf(json, "AWS::RDS::DBSubnetGroup")[0][1].SubnetIds as Json[];
  const tagged = subnetsNamed(json, "database");
  assert.deepEqual(dbSubnets.map((s) => s.Ref).sort(), tagged.sort());
  for (const id of tagged) {
    assert.equal((json.Resources[id].Properties as Json).MapPublicIpOnLaunch, false);
  }
});

function subnetsNamed(json: { Resources: Record<string, Json> }, name: string): string[] {
  return resourcesOf(json, "AWS::EC2::Subnet").filter(([, p]) =>
    (p.Tags as { Key: string; Value: string }[]).some((t) =>
      t.Key === "aws-cdk:subnet-name" && t.Value === name
    )
  ).map(([id]) => id);
}

Deno.test("SkydiffStack: both functions run Deno on provided.al2023 in the private function subnets", () => {
  const { stack, json } = defaults;
  const functionSubnets = subnetsNamed(json, "functions").sort();
  assert.equal(functionSubnets.length, 2, "one per AZ");
  for (const id of functionSubnets) {
    const tags = (json.Resources[id].Properties as { Tags: { Key: string; Value: string }[] }).Tags;
    assert.ok(tags.some((t) => t.Key === "aws-cdk:subnet-type" && t.Value === "Private"));
  }
  const expected: [SkydiffStack["stepFunction"], number, number][] = [
    [stack.stepFunction, 3008, 150],
    [stack.ingestFunction, 1024, 120],
  ];
  for (const [fn, memory, timeout] of expected) {
    const p = json.Resources[logicalId(stack, fn)].Properties as Json;
    assert.equal(p.Runtime, "provided.al2023");
    assert.equal(p.MemorySize, memory);
    assert.equal(p.Timeout, timeout);
    const vpc = p.VpcConfig as { SubnetIds: Json[] };
    assert.deepEqual(vpc.SubnetIds.map((s) => s.Ref).sort(), functionSubnets);
    const layers = p.Layers as unknown[];
    assert.ok(layers.some((l) => JSON.stringify(l).includes("DenoLayer")), "the Deno layer");
    assert.match(
      JSON.stringify(layers),
      /arn:aws:lambda:eu-west-1:\d+:layer:AWS-Parameters-and-Secrets-Lambda-Extension:\d+/,
      "the Parameters and Secrets extension",
    );
    const env = (p.Environment as { Variables: Json }).Variables;
    assert.deepEqual(env[FUNCTION_ENV.rawBucket], { Ref: logicalId(stack, stack.rawBucket) });
    assert.ok(env[FUNCTION_ENV.dbSecretArn], "the database secret");
  }
  const ingestEnv =
    ((json.Resources[logicalId(stack, stack.ingestFunction)].Properties as Json).Environment as {
      Variables: Json;
    }).Variables;
  assert.equal(ingestEnv[FUNCTION_ENV.migrate], "1");
  // both functions' logs are kept for the configured time
  const groups = resourcesOf(json, "AWS::Logs::LogGroup");
  assert.equal(groups.length, 2);
  assert.ok(groups.every(([, p]) => p.RetentionInDays === 30));
});

/** The JSON of an Fn::Join with every Ref/GetAtt replaced by a stand-in string. */
function resolveJoin(value: unknown): string {
  if (typeof value === "string") return value;
  const join = (value as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
  if (!join) return `resolved-${Object.keys(value as Json)[0]}`;
  return join[1].map((part) =>
    typeof part === "string"
      ? part
      : (part as Json).Ref === "AWS::Region"
      ? "eu-west-1"
      : "bucket-x"
  ).join(join[0]);
}

Deno.test("SkydiffStack: the functions' config overrides are a valid skydiff configuration", () => {
  const { stack, json } = defaults;
  const p = json.Resources[logicalId(stack, stack.stepFunction)].Properties as Json;
  const env = (p.Environment as { Variables: Json }).Variables;
  const overrides = JSON.parse(resolveJoin(env[FUNCTION_ENV.overrides]));
  const config = ConfigSchema.parse(overrides);
  assert.equal(config.queue.kind, "sqs");
  assert.equal(config.queue.name, "sky-steps");
  assert.equal(config.queue.visibility_seconds, 1200, "the queue's visibility, not the default");
  assert.equal(config.queue.max_receives, 5);
  assert.equal(config.queue.sqs.region, "eu-west-1");
  assert.equal(config.storage.kind, "s3");
  assert.equal(config.storage.s3.bucket, "bucket-x");
  assert.equal(config.storage.s3.force_path_style, false);
  assert.equal(config.db.pool_size, 2);
});

Deno.test("SkydiffStack: the step function's permissions match what its adapters do", () => {
  const { stack, json } = defaults;
  const policies = resourcesOf(json, "AWS::IAM::Policy").filter(([, p]) =>
    (p.Roles as Json[]).some((r) =>
      JSON.stringify(r).includes(logicalId(stack, stack.stepFunction.role!))
    )
  );
  const statements = policies.flatMap(([, p]) =>
    (p.PolicyDocument as { Statement: Json[] }).Statement
  );
  const lookup = statements.find((s) =>
    Array.isArray(s.Action) && (s.Action as string[]).includes("sqs:SetQueueAttributes")
  );
  assert.ok(lookup, "sqs:SetQueueAttributes granted");
  assert.deepEqual((lookup!.Action as string[]).sort(), [
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:SetQueueAttributes",
  ]);
  assert.equal((lookup!.Resource as unknown[]).length, 2);

  // what the SQS adapter does with a record: delete it, dead-letter it, shorten its retry delay
  const allowed = (action: string, resource: string) =>
    statements.some((s) =>
      (Array.isArray(s.Action) ? s.Action as string[] : [s.Action]).includes(action) &&
      JSON.stringify(s.Resource).includes(resource)
    );
  const stepQueue = logicalId(stack, stack.stepQueue);
  const dlq = logicalId(stack, stack.deadLetterQueue);
  for (const action of ["sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:SendMessage"]) {
    assert.ok(allowed(action, stepQueue), `${action} on the step queue`);
  }
  assert.ok(allowed("sqs:SendMessage", dlq), "sqs:SendMessage on the dead-letter queue");
  assert.ok(allowed("s3:PutObject", logicalId(stack, stack.productsBucket)), "products written");
  assert.ok(!allowed("s3:PutObject", logicalId(stack, stack.rawBucket)), "raw data read-only");
});

Deno.test("SkydiffStack without NAT: isolated function subnets with SQS and Secrets Manager endpoints", async () => {
  const { template } = await synth(settings({ network: { nat_gateways: 0 } }));
  template.resourceCountIs("AWS::EC2::NatGateway", 0);
  template.hasResourceProperties("AWS::EC2::VPCEndpoint", {
    ServiceName: "com.amazonaws.eu-west-1.sqs",
    VpcEndpointType: "Interface",
  });
  template.hasResourceProperties("AWS::EC2::VPCEndpoint", {
    ServiceName: "com.amazonaws.eu-west-1.secretsmanager",
    VpcEndpointType: "Interface",
  });
  template.hasResourceProperties("AWS::EC2::VPCEndpoint", {
    ServiceName: Match.objectLike({}),
    VpcEndpointType: "Gateway",
  });
});

Deno.test("parseInfraConfig names a bad key; defaults are documented values", () => {
  assert.throws(
    () => parseInfraConfig({ step_function: { memory_mb: 64 } }),
    /key "step_function.memory_mb"/,
  );
  assert.throws(() => parseInfraConfig({ databse: {} }), /key "databse"/);
  assert.throws(() => parseInfraConfig({ logs: { retention_days: 10 } }), /logs.retention_days/);
  assert.throws(
    () => settings({ buckets: { raw_suffixes: [".fits.fz", ".fz"] } }),
    /"\.fits\.fz" overlaps "\.fz"/,
  );
  const d = parseInfraConfig({});
  assert.equal(d.step_function.memory_mb, 3008);
  assert.equal(d.logs.retention_days, 30);
});
