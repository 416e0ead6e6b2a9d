/**
 * The API behind AWS API Gateway (cloud mode): an API Gateway event (HTTP API
 * payload 2.0, or REST / payload 1.0) in, the app's response out — binary bodies
 * (PNG cutouts) base64-encoded — through Hono's aws-lambda adapter.
 *
 * The Lambda entry point (functions/lambda_main.ts) routes events for which
 * {@linkcode isApiGatewayEvent} is true to {@linkcode apiGatewayHandler} built on
 * its services and the jobs queue (`openJobQueue` of jobs.ts).
 *
 * @module
 */
import { handle } from "hono/aws-lambda";
import { createApp } from "./app.ts";
import type { ApiDeps } from "./deps.ts";

/** What API Gateway expects back from a proxy integration. */
export interface ApiGatewayResult {
  statusCode: number;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  body: string;
  isBase64Encoded: boolean;
}

/** True for an API Gateway proxy event (HTTP API 2.0: requestContext.http; REST: httpMethod). */
export function isApiGatewayEvent(event: unknown): boolean {
  const e = event as {
    requestContext?: { http?: { method?: unknown } };
    httpMethod?: unknown;
    resource?: unknown;
  } | null;
  if (e === null || typeof e !== "object") return false;
  if (typeof e.requestContext?.http?.method === "string") return true;
  return typeof e.httpMethod === "string" && e.requestContext !== undefined;
}

/** A Lambda handler serving the API app on `deps` for API Gateway events. */
export function apiGatewayHandler(
  deps: ApiDeps,
): (event: unknown) => Promise<ApiGatewayResult> {
  const handler = handle(createApp(deps));
  return async (event) => await handler(event as never) as ApiGatewayResult;
}
