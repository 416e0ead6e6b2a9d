/**
 * Errors as RFC 9457 problem details: `application/problem+json` bodies with
 * `type`, `title`, `status`, `detail` and `instance` (the request path), plus
 * for 400s the invalid field (`field`) and every invalid parameter
 * (`invalid_params: [{name, in, reason}]`).
 *
 * Handlers throw a {@linkcode Problem}; the app's error handler writes it.
 *
 * @module
 */

/** Where an invalid parameter was. */
export type ParamLocation = "path" | "query" | "body" | "header";

/** One invalid parameter of a 400. */
export interface InvalidParam {
  /** Dotted path of the field ("ra", "time.min_mjd"), or "(body)" for the whole body. */
  name: string;
  in: ParamLocation;
  reason: string;
}

/** The problem types this API uses (URNs: they identify, they are not fetched). */
export const PROBLEM_TYPES = {
  invalid: "urn:skydiff:problem:invalid-request",
  notFound: "urn:skydiff:problem:not-found",
  unsupportedMediaType: "urn:skydiff:problem:unsupported-media-type",
  tooLarge: "urn:skydiff:problem:content-too-large",
  unavailable: "urn:skydiff:problem:service-unavailable",
  internal: "urn:skydiff:problem:internal-error",
} as const;

/** The media type of problem details. */
export const PROBLEM_MEDIA_TYPE = "application/problem+json";

/** A problem detail body. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  field?: string;
  invalid_params?: InvalidParam[];
  [extension: string]: unknown;
}

/** An HTTP error with its problem details; thrown by handlers. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = "Problem";
  }

  /** The JSON body for a request to `instance`. */
  body(instance?: string): ProblemBody {
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      detail: this.detail,
      ...(instance !== undefined ? { instance } : {}),
      ...this.extensions,
    };
  }

  /** 400: the request has invalid parameters (the first one is `field`). */
  static invalid(params: InvalidParam[], detail?: string): Problem {
    const first = params[0];
    return new Problem(
      400,
      PROBLEM_TYPES.invalid,
      "Invalid request",
      detail ?? `invalid ${first.in} parameter "${first.name}": ${first.reason}`,
      { field: first.name, invalid_params: params },
    );
  }

  /** 404: no such resource. */
  static notFound(detail: string): Problem {
    return new Problem(404, PROBLEM_TYPES.notFound, "Not found", detail);
  }

  /** 415: the body is not JSON. */
  static unsupportedMediaType(detail: string): Problem {
    return new Problem(415, PROBLEM_TYPES.unsupportedMediaType, "Unsupported media type", detail);
  }

  /** 413: the body is larger than the API accepts. */
  static tooLarge(maxBytes: number): Problem {
    return new Problem(
      413,
      PROBLEM_TYPES.tooLarge,
      "Content too large",
      `the body exceeds ${maxBytes} bytes`,
    );
  }

  /** 503: a backing service failed. */
  static unavailable(detail: string): Problem {
    return new Problem(503, PROBLEM_TYPES.unavailable, "Service unavailable", detail);
  }

  /** 500: anything unexpected (the detail stays generic; the log has the cause). */
  static internal(): Problem {
    return new Problem(500, PROBLEM_TYPES.internal, "Internal server error", "internal error");
  }
}

/** A Response carrying the problem, for a request to `instance`. */
export function problemResponse(problem: Problem, instance?: string): Response {
  return new Response(JSON.stringify(problem.body(instance)), {
    status: problem.status,
    headers: { "content-type": PROBLEM_MEDIA_TYPE },
  });
}
