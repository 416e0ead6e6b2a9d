/**
 * The skydiff cloud stack (DESIGN.md, "cloud" mode): raw-data and products
 * buckets, the step queue and its dead-letter queue, the ingest and step-worker
 * functions (Deno on provided.al2023), RDS Postgres 15 in a VPC, alarms and logs.
 *
 * ```
 * raw bucket --ObjectCreated--> ingest fn --> step queue --SQS event source--> step fn
 *                                   |              | (redrive)                   |
 *                                   v              v                             v
 *                         ingest failure queue   step DLQ          products bucket, RDS
 * ```
 *
 * @module
 */
import {
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cwActions,
  aws_ec2 as ec2,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_lambda_destinations as destinations,
  aws_lambda_event_sources as sources,
  aws_logs as logs,
  aws_rds as rds,
  aws_s3 as s3,
  aws_s3_notifications as s3n,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
  aws_sqs as sqs,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Size,
  Stack,
  type StackProps,
} from "aws-cdk-lib";
import type { Construct } from "constructs";
import type { StackSettings } from "./config.ts";

/** Environment variable names the functions read (functions/lambda_main.ts, LAMBDA_ENV). */
export const FUNCTION_ENV = {
  overrides: "SKYDIFF_CONFIG_OVERRIDES",
  dbSecretArn: "SKYDIFF_DB_SECRET_ARN",
  rawBucket: "SKYDIFF_RAW_BUCKET",
  migrate: "SKYDIFF_MIGRATE",
} as const;

/** Props of {@linkcode SkydiffStack}. */
export interface SkydiffStackProps extends StackProps {
  /** Infra and pipeline settings, checked (see infra/config.ts). */
  settings: StackSettings;
  /** Directory of the function code (contains `bootstrap`). @default settings.infra.lambda.asset_dir */
  assetDir?: string;
  /** Directory of the Deno layer (contains `bin/deno`). @default settings.infra.lambda.deno_layer_dir */
  denoLayerDir?: string;
}

/** The stack; its parts are public for tests and for stacks built on it. */
export class SkydiffStack extends Stack {
  readonly vpc: ec2.Vpc;
  readonly rawBucket: s3.Bucket;
  readonly productsBucket: s3.Bucket;
  readonly stepQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly ingestFailures: sqs.Queue;
  readonly database: rds.DatabaseInstance;
  readonly stepFunction: lambda.Function;
  readonly ingestFunction: lambda.Function;
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: SkydiffStackProps) {
    super(scope, id, props);
    const { infra, pipeline } = props.settings;
    const removal = infra.buckets.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // ------------------------------------------------------------ network
    this.vpc = new ec2.Vpc(this, "Vpc", {
      maxAzs: infra.network.max_azs,
      natGateways: infra.network.nat_gateways,
      subnetConfiguration: [
        { name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        {
          name: "functions",
          subnetType: infra.network.nat_gateways > 0
            ? ec2.SubnetType.PRIVATE_WITH_EGRESS
            : ec2.SubnetType.PRIVATE_ISOLATED,
          cidrMask: 20,
        },
        { name: "database", subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
    });
    const functionSubnets = { subnetGroupName: "functions" };
    // S3 traffic stays on the AWS network (and needs no NAT)
    this.vpc.addGatewayEndpoint("S3Endpoint", { service: ec2.GatewayVpcEndpointAwsService.S3 });
    if (infra.network.nat_gateways === 0) {
      for (
        const [name, service] of [
          ["SqsEndpoint", ec2.InterfaceVpcEndpointAwsService.SQS],
          ["SecretsEndpoint", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
        ] as const
      ) {
        this.vpc.addInterfaceEndpoint(name, { service, subnets: functionSubnets });
      }
    }
    const functionSg = new ec2.SecurityGroup(this, "FunctionSecurityGroup", {
      vpc: this.vpc,
      description: "skydiff functions",
      allowAllOutbound: true,
    });

    // ------------------------------------------------------------ storage
    const bucketProps = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: removal,
      autoDeleteObjects: !infra.buckets.retain,
    };
    this.rawBucket = new s3.Bucket(this, "RawBucket", {
      ...bucketProps,
      bucketName: infra.buckets.raw_name || undefined,
    });
    this.productsBucket = new s3.Bucket(this, "ProductsBucket", {
      ...bucketProps,
      bucketName: infra.buckets.products_name || undefined,
    });

    // ------------------------------------------------------------ queues
    // Names are the pipeline's: the functions open the queue and `<name>-dlq` by name.
    this.deadLetterQueue = new sqs.Queue(this, "StepDeadLetterQueue", {
      queueName: `${pipeline.queue.name}-dlq`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.stepQueue = new sqs.Queue(this, "StepQueue", {
      queueName: pipeline.queue.name,
      visibilityTimeout: Duration.seconds(pipeline.queue.visibility_seconds),
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: pipeline.queue.max_receives,
      },
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.ingestFailures = new sqs.Queue(this, "IngestFailureQueue", {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    // ------------------------------------------------------------ database
    this.database = new rds.DatabaseInstance(this, "Database", {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_15 }),
      instanceType: new ec2.InstanceType(infra.database.instance_class),
      vpc: this.vpc,
      vpcSubnets: { subnetGroupName: "database" },
      credentials: rds.Credentials.fromGeneratedSecret(infra.database.username),
      databaseName: infra.database.database_name,
      allocatedStorage: infra.database.allocated_storage_gb,
      maxAllocatedStorage: infra.database.max_allocated_storage_gb,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      multiAz: infra.database.multi_az,
      backupRetention: Duration.days(infra.database.backup_retention_days),
      deletionProtection: infra.database.deletion_protection,
      removalPolicy: infra.buckets.retain ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      cloudwatchLogsExports: ["postgresql"],
      cloudwatchLogsRetention: infra.logs.retention_days as logs.RetentionDays,
    });
    this.database.connections.allowDefaultPortFrom(functionSg, "skydiff functions");
    const secret = this.database.secret!;

    // ------------------------------------------------------------ functions
    const code = lambda.Code.fromAsset(props.assetDir ?? infra.lambda.asset_dir);
    const denoLayer = new lambda.LayerVersion(this, "DenoLayer", {
      code: lambda.Code.fromAsset(props.denoLayerDir ?? infra.lambda.deno_layer_dir),
      compatibleRuntimes: [lambda.Runtime.PROVIDED_AL2023],
      compatibleArchitectures: [lambda.Architecture.X86_64],
      description: "the Deno binary (bin/deno)",
    });
    // the pipeline's configuration, as the functions must see it (top layer, JSON)
    const overrides = {
      db: { pool_size: infra.database.pool_size },
      storage: {
        kind: "s3",
        s3: {
          bucket: this.productsBucket.bucketName,
          region: this.region,
          endpoint: "",
          force_path_style: false,
        },
      },
      queue: {
        kind: "sqs",
        name: pipeline.queue.name,
        visibility_seconds: pipeline.queue.visibility_seconds,
        max_receives: pipeline.queue.max_receives,
        retry_delay_seconds: pipeline.queue.retry_delay_seconds,
        sqs: { region: this.region, endpoint: "" },
      },
      log: { level: pipeline.log.level },
      pipeline: pipeline.pipeline,
    };
    const common = (role: string, settings: typeof infra.step_function) => {
      const logGroup = new logs.LogGroup(this, `${role}Logs`, {
        retention: infra.logs.retention_days as logs.RetentionDays,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      return {
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: lambda.Architecture.X86_64,
        handler: "lambda_main",
        code,
        layers: [denoLayer],
        memorySize: settings.memory_mb,
        timeout: Duration.seconds(settings.timeout_seconds),
        ephemeralStorageSize: Size.mebibytes(settings.ephemeral_storage_mb),
        vpc: this.vpc,
        vpcSubnets: functionSubnets,
        securityGroups: [functionSg],
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        paramsAndSecrets: lambda.ParamsAndSecretsLayerVersion.fromVersion(
          lambda.ParamsAndSecretsVersions.V1_0_103,
          { cacheEnabled: true },
        ),
        environment: {
          [FUNCTION_ENV.overrides]: this.toJsonString(overrides),
          [FUNCTION_ENV.dbSecretArn]: secret.secretArn,
          [FUNCTION_ENV.rawBucket]: this.rawBucket.bucketName,
        },
      };
    };

    this.stepFunction = new lambda.Function(this, "StepFunction", {
      ...common("Step", infra.step_function),
      description: "skydiff pipeline steps (SQS step messages)",
    });
    this.stepFunction.addEventSource(
      new sources.SqsEventSource(this.stepQueue, {
        batchSize: pipeline.worker.batch_size,
        maxBatchingWindow: infra.step_function.max_batching_window_seconds > 0
          ? Duration.seconds(infra.step_function.max_batching_window_seconds)
          : undefined,
        reportBatchItemFailures: true,
        maxConcurrency: infra.step_function.max_concurrency,
      }),
    );

    this.ingestFunction = new lambda.Function(this, "IngestFunction", {
      ...common("Ingest", { ...infra.step_function, ...infra.ingest_function }),
      description: "skydiff ingest (raw exposures from S3 ObjectCreated)",
      retryAttempts: infra.ingest_function.retry_attempts,
      onFailure: new destinations.SqsDestination(this.ingestFailures),
    });
    // ingest starts every run: it brings the schema up to date at cold start (advisory-locked)
    this.ingestFunction.addEnvironment(FUNCTION_ENV.migrate, "1");
    for (const suffix of infra.buckets.raw_suffixes) {
      this.rawBucket.addEventNotification(
        s3.EventType.OBJECT_CREATED,
        new s3n.LambdaDestination(this.ingestFunction),
        { suffix },
      );
    }

    // ------------------------------------------------------------ permissions
    for (const fn of [this.stepFunction, this.ingestFunction]) {
      secret.grantRead(fn);
      this.rawBucket.grantRead(fn);
      this.stepQueue.grantSendMessages(fn);
      this.deadLetterQueue.grantSendMessages(fn);
      // SqsQueue.open looks both queues up by name and re-applies their attributes
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes"],
          resources: [this.stepQueue.queueArn, this.deadLetterQueue.queueArn],
        }),
      );
    }
    this.productsBucket.grantReadWrite(this.stepFunction);
    this.productsBucket.grantRead(this.ingestFunction);
    this.stepQueue.grantConsumeMessages(this.stepFunction);

    // ------------------------------------------------------------ alarms
    this.alarmTopic = new sns.Topic(this, "AlarmTopic", { displayName: "skydiff alarms" });
    if (infra.alarms.email) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(infra.alarms.email));
    }
    const period = Duration.seconds(infra.alarms.period_seconds);
    const alarm = (id: string, description: string, props: cloudwatch.AlarmProps) => {
      const made = new cloudwatch.Alarm(this, id, {
        ...props,
        alarmDescription: description,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      made.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
      return made;
    };
    alarm("DeadLetterAlarm", "step messages were dead-lettered (skydiff logs --trace …)", {
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: "Maximum",
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    alarm("IngestFailureAlarm", "raw exposures could not be ingested", {
      metric: this.ingestFailures.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: "Maximum",
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    alarm("QueueAgeAlarm", "step messages wait too long: workers are behind or failing", {
      metric: this.stepQueue.metricApproximateAgeOfOldestMessage({ period, statistic: "Maximum" }),
      threshold: infra.alarms.oldest_message_age_seconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    for (
      const [id, fn] of [["Step", this.stepFunction], ["Ingest", this.ingestFunction]] as const
    ) {
      alarm(`${id}FunctionErrorAlarm`, `the ${id.toLowerCase()} function reports errors`, {
        metric: fn.metricErrors({ period, statistic: "Sum" }),
        threshold: infra.alarms.function_errors,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      });
    }

    // ------------------------------------------------------------ outputs
    new CfnOutput(this, "RawBucketName", { value: this.rawBucket.bucketName });
    new CfnOutput(this, "ProductsBucketName", { value: this.productsBucket.bucketName });
    new CfnOutput(this, "StepQueueUrl", { value: this.stepQueue.queueUrl });
    new CfnOutput(this, "DatabaseSecretArn", { value: secret.secretArn });
    new CfnOutput(this, "DatabaseEndpoint", { value: this.database.dbInstanceEndpointAddress });
  }
}
