/**
 * The one interface the rest of the server uses to reach stored bytes. tus
 * writes through `datastore` (an @tus/utils DataStore); everything else
 * (downloads, termination, expiry, health) goes through the methods here.
 */
import type { Readable } from 'node:stream'
import type { DataStore } from '@tus/utils'

/** What a stored object is served with. */
export type ObjectHeaders = { contentType: string; filename: string }

/** Inclusive byte range, as in HTTP Range. */
export type ByteRange = { start: number; end: number }

export interface Storage {
  readonly backend: 'file' | 's3'
  readonly datastore: DataStore
  /** Where the finished bytes of upload `id` live (object key or file name). */
  keyFor(id: string): string
  /** Streams the stored bytes of a finished upload. Throws AppError ERR_FILE_NOT_FOUND if absent. */
  read(id: string, range?: ByteRange): Promise<Readable>
  /**
   * Removes everything stored for an upload: the object or file, its .info/.json,
   * an incomplete .part and an unfinished multipart upload. Absent pieces are fine.
   */
  remove(id: string): Promise<void>
  /**
   * Stores a whole object at `id` from a stream, where read(id) finds it (the
   * ways in that are not tus: form posts). Memory stays bounded whatever the
   * size. When `body` fails the write is abandoned; the caller removes what is left.
   */
  putObject(id: string, body: Readable, headers: ObjectHeaders): Promise<void>
  /** The size of the finished object at `id`, or undefined when there is none. */
  statObject(id: string): Promise<{ size: number } | undefined>
  /**
   * A URL that lets whoever holds it PUT exactly `size` bytes at `id` until it
   * expires (bytes that never pass through this server). Only on S3.
   */
  presignPut?(id: string, options: ObjectHeaders & { size: number; expiresInSeconds: number }): Promise<string>
  /** S3 multipart driven by the client with presigned part URLs (bytes that never pass through this server). Only on S3. */
  presignedMultipart?: PresignedMultipart
  /** Lists what is left in storage for `id` (names of objects/files); used by tests and the reconcile. */
  leftovers(id: string): Promise<string[]>
  /** Throws when the storage cannot be reached (for /readyz). */
  ping(): Promise<void>
  /** Stops background work (timers, sockets). */
  close(): Promise<void>
}

/** One part of a multipart upload, as the store lists it. */
export type StoredPart = { partNumber: number; size: number; etag: string }

/**
 * A multipart upload at `id` that the client fills with presigned part PUTs.
 * The S3 upload id travels with the client, as @uppy/aws-s3 keeps it; only
 * uploads on the key `id` can be named, and `remove(id)` aborts them all.
 */
export interface PresignedMultipart {
  /** Starts one; answers its S3 upload id. */
  create(id: string, headers: ObjectHeaders): Promise<string>
  /** A URL that lets whoever holds it PUT part `partNumber` (1-10000) until it expires. */
  presignPart(id: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string>
  /** Every part stored so far, by part number; undefined when there is no such upload (finished, aborted, never). */
  listParts(id: string, uploadId: string): Promise<StoredPart[] | undefined>
  /** Joins the parts into the object at `id`. */
  complete(id: string, uploadId: string, parts: StoredPart[]): Promise<void>
}
