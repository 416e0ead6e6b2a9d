/**
 * The S3 object store (MinIO, Ceph, versitygw, AWS) over @aws-sdk/client-s3.
 *
 * Integrity: a single PUT carries Content-MD5 (the server rejects bytes that do not
 * match) and the returned ETag is compared with the MD5; a multipart upload sends
 * Content-MD5 on every part, compares every part's ETag, and checks the final
 * multipart ETag (MD5 of the part MD5s, "-N"). The whole object's hex MD5 is stored
 * in the `md5` user metadata, which {@linkcode S3ObjectStore.head} returns and a
 * whole-object {@linkcode S3ObjectStore.get} verifies.
 *
 * @module
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import {
  ChecksumMismatch,
  type GetOptions,
  type ObjectInfo,
  ObjectNotFound,
  type ObjectStore,
} from "./object_store.ts";
import { checkKey, checkPrefix } from "./key.ts";
import { isMd5Hex, md5Base64, md5Hex, md5Raw } from "./md5.ts";

const MiB = 1024 * 1024;

/** Options of {@linkcode S3ObjectStore}. */
export interface S3StoreOptions {
  /** The bucket. */
  bucket: string;
  /** Prepended to every key (e.g. "run-42/"); keys are listed without it. @default "" */
  prefix?: string;
  /** Endpoint URL for S3-compatible servers (MinIO: http://127.0.0.1:9000). @default AWS */
  endpoint?: string;
  /** @default "us-east-1" */
  region?: string;
  /** Static credentials; else the SDK's default provider chain. */
  accessKeyId?: string;
  /** Static credentials; else the SDK's default provider chain. */
  secretAccessKey?: string;
  /** Path-style addressing (needed by MinIO and most self-hosted servers). @default true with an endpoint */
  forcePathStyle?: boolean;
  /** Multipart part size in bytes; objects of at least this size go multipart. @default 16 MiB */
  partSize?: number;
  /** Parts uploaded at once. @default 4 */
  partConcurrency?: number;
  /** Use this client instead of building one (tests add middleware to it). */
  client?: S3Client;
}

function errorName(e: unknown): string {
  return (e as { name?: string })?.name ?? "";
}

function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function stripQuotes(etag: string | undefined): string {
  return (etag ?? "").replaceAll('"', "").toLowerCase();
}

/** An {@linkcode ObjectStore} over an S3 bucket. */
export class S3ObjectStore implements ObjectStore {
  readonly kind = "s3" as const;
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  readonly partSize: number;
  readonly #concurrency: number;
  readonly #ownsClient: boolean;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? "";
    if (this.prefix !== "") checkPrefix(this.prefix);
    this.partSize = options.partSize ?? 16 * MiB;
    if (this.partSize < 5 * MiB) throw new RangeError("S3 multipart parts must be at least 5 MiB");
    this.#concurrency = Math.max(1, options.partConcurrency ?? 4);
    this.#ownsClient = !options.client;
    this.client = options.client ?? new S3Client({
      region: options.region ?? "us-east-1",
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      credentials: options.accessKeyId && options.secretAccessKey
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined,
      // Integrity is MD5-based (Content-MD5 + ETag) so that every S3-compatible server
      // checks it; the SDK's optional CRC checksums are left off.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  #where(): string {
    return `s3://${this.bucket}/${this.prefix}`;
  }

  #full(key: string): string {
    return this.prefix + checkKey(key);
  }

  async put(
    key: string,
    data: Uint8Array,
    options: { contentType?: string } = {},
  ): Promise<ObjectInfo> {
    const full = this.#full(key);
    const md5 = md5Hex(data);
    const contentType = options.contentType ?? "application/octet-stream";
    if (data.length < this.partSize) {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: full,
          Body: data,
          ContentLength: data.length,
          ContentMD5: md5Base64(data),
          ContentType: contentType,
          Metadata: { md5 },
        }),
      );
      const etag = stripQuotes(out.ETag);
      if (isMd5Hex(etag) && etag !== md5) throw new ChecksumMismatch(key, md5, etag);
    } else {
      await this.#putMultipart(key, full, data, md5, contentType);
    }
    return { key, size: data.length, md5 };
  }

  async #putMultipart(
    key: string,
    full: string,
    data: Uint8Array,
    md5: string,
    contentType: string,
  ): Promise<void> {
    const created = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: full,
        ContentType: contentType,
        Metadata: { md5 },
      }),
    );
    const uploadId = created.UploadId!;
    try {
      const count = Math.ceil(data.length / this.partSize);
      const parts: { ETag: string; PartNumber: number }[] = new Array(count);
      const partMd5s: Uint8Array[] = new Array(count);
      let next = 0;
      const worker = async () => {
        while (next < count) {
          const i = next++;
          const body = data.subarray(
            i * this.partSize,
            Math.min(data.length, (i + 1) * this.partSize),
          );
          partMd5s[i] = md5Raw(body);
          const out = await this.client.send(
            new UploadPartCommand({
              Bucket: this.bucket,
              Key: full,
              UploadId: uploadId,
              PartNumber: i + 1,
              Body: body,
              ContentLength: body.length,
              ContentMD5: md5Base64(body),
            }),
          );
          const expected = md5Hex(body);
          const etag = stripQuotes(out.ETag);
          if (isMd5Hex(etag) && etag !== expected) {
            throw new ChecksumMismatch(`${key} part ${i + 1}`, expected, etag);
          }
          parts[i] = { ETag: out.ETag!, PartNumber: i + 1 };
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.#concurrency, count) }, worker));
      const done = await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: full,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
      // The multipart ETag most servers return: MD5 of the concatenated part MD5s, "-N".
      const joined = new Uint8Array(16 * count);
      partMd5s.forEach((m, i) => joined.set(m, 16 * i));
      const expected = `${md5Hex(joined)}-${count}`;
      const etag = stripQuotes(done.ETag);
      if (/^[0-9a-f]{32}-\d+$/.test(etag) && etag !== expected) {
        throw new ChecksumMismatch(`${key} (multipart)`, expected, etag);
      }
    } catch (e) {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: full, UploadId: uploadId }),
      ).catch(() => {});
      throw e;
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Uint8Array> {
    const full = this.#full(key);
    let rangeHeader: string | undefined;
    if (options.range) {
      const { offset, length } = options.range;
      if (!Number.isSafeInteger(offset) || offset < 0) {
        throw new RangeError(`range offset ${offset} is not a non-negative integer (${key})`);
      }
      if (!Number.isSafeInteger(length) || length < 1) {
        throw new RangeError(`range length ${length} is not a positive integer (${key})`);
      }
      rangeHeader = `bytes=${offset}-${offset + length - 1}`;
    }
    let out;
    try {
      out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: full, Range: rangeHeader }),
      );
    } catch (e) {
      if (errorName(e) === "NoSuchKey" || httpStatus(e) === 404) {
        throw new ObjectNotFound(key, this.#where());
      }
      if (errorName(e) === "InvalidRange" || httpStatus(e) === 416) {
        throw new RangeError(`range offset ${options.range?.offset} is beyond the end of ${key}`);
      }
      throw e;
    }
    const bytes = await out.Body!.transformToByteArray();
    if (options.range) return bytes;
    const actual = md5Hex(bytes);
    const stored = out.Metadata?.md5;
    if (stored && stored !== actual) throw new ChecksumMismatch(key, stored, actual);
    if (options.md5 !== undefined && options.md5.toLowerCase() !== actual) {
      throw new ChecksumMismatch(key, options.md5.toLowerCase(), actual);
    }
    return bytes;
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const out = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.#full(key) }),
      );
      const etag = stripQuotes(out.ETag);
      const md5 = out.Metadata?.md5 ?? (isMd5Hex(etag) ? etag : md5Hex(await this.get(key)));
      return { key, size: out.ContentLength ?? 0, md5 };
    } catch (e) {
      if (errorName(e) === "NotFound" || errorName(e) === "NoSuchKey" || httpStatus(e) === 404) {
        return null;
      }
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#full(key) }));
  }

  async *list(prefix: string): AsyncIterable<string> {
    checkPrefix(prefix);
    let token: string | undefined;
    do {
      const out = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ContinuationToken: token,
        }),
      );
      for (const item of out.Contents ?? []) {
        if (item.Key !== undefined) yield item.Key.slice(this.prefix.length);
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  /** Destroys the client when this store built it. */
  close(): void {
    if (this.#ownsClient) this.client.destroy();
  }
}
