/**
 * Paging of list endpoints: `limit` / `offset` query parameters and the `next`
 * link of a page.
 *
 * @module
 */
import type { Context } from "hono";
import { z } from "zod";
import type { ApiLimits } from "../deps.ts";
import { queryInt } from "../validate.ts";

/** The zod fields `limit` and `offset` under `limits`. */
export function pagingFields(limits: ApiLimits) {
  return {
    limit: queryInt.pipe(z.int().min(1).max(limits.maxPageSize)).optional(),
    offset: queryInt.pipe(z.int().min(0).max(1_000_000)).optional(),
  };
}

/**
 * A page of `rows` (fetched with LIMIT limit + 1): the items, and the URL of the
 * next page when there is one (same query, offset moved on).
 */
export function page<T>(
  c: Context,
  rows: T[],
  limit: number,
  offset: number,
): { items: T[]; limit: number; offset: number; next: string | null } {
  const more = rows.length > limit;
  let next: string | null = null;
  if (more) {
    const url = new URL(c.req.url);
    url.searchParams.set("offset", String(offset + limit));
    url.searchParams.set("limit", String(limit));
    next = `${url.pathname}${url.search}`;
  }
  return { items: rows.slice(0, limit), limit, offset, next };
}
