/**
 * The HTTP API: the Hono app, its serving, jobs, problem details, the PNG
 * encoder and display stretches.
 *
 * @module
 */
export { createApp } from "./app.ts";
export { type ApiDeps, type ApiLimits, DEFAULT_LIMITS } from "./deps.ts";
export { parseServeArgs, serveApi, serveCommand, type ServeOptions } from "./serve.ts";
export { apiGatewayHandler, type ApiGatewayResult, isApiGatewayEvent } from "./handler.ts";
export {
  type CoaddRequest,
  CoaddRequestSchema,
  getJob,
  type Job,
  JOB_KIND,
  JOB_MESSAGE_VERSION,
  JOB_STATUS,
  type JobKind,
  type JobMessage,
  JobMessageSchema,
  jobQueueName,
  type JobStatus,
  openJobQueue,
  parseJobMessage,
  type ReferenceRequest,
  ReferenceRequestSchema,
  submitJob,
  updateJob,
} from "./jobs.ts";
export {
  type InvalidParam,
  Problem,
  PROBLEM_MEDIA_TYPE,
  PROBLEM_TYPES,
  type ProblemBody,
} from "./problem.ts";
export { crc32, encodeGrayPng, PNG_SIGNATURE } from "./png.ts";
export { type StretchName, stretchToBytes, zscaleLimits } from "./stretch.ts";
export {
  type CutoutLookup,
  cutoutsFromStore,
  type CutoutsSource,
  type CutoutTriplet,
  readCutoutsFile,
} from "./cutouts_source.ts";
