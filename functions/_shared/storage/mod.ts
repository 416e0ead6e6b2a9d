/**
 * Object storage: the interface, its adapters and the factory.
 *
 * @module
 */
export * from "./object_store.ts";
export { FsObjectStore, type FsStoreOptions } from "./fs_store.ts";
export { S3ObjectStore, type S3StoreOptions } from "./s3_store.ts";
export { type ObjectStoreConfig, objectStoreConfigSchema, openObjectStore } from "./open.ts";
export { checkKey, checkPrefix, InvalidKey } from "./key.ts";
export { md5Hex } from "./md5.ts";
