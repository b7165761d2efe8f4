/**
 * S3 multipart storage through @tus/s3-store.
 *
 * Objects kept in the bucket for upload <id>:
 *   <id>        the finished object (a multipart upload until the last byte)
 *   <id>.info   the tus upload info (JSON body; upload-id in its metadata)
 *   <id>.part   bytes of the last PATCH below the 5 MiB minimum part size
 * plus one in-progress multipart upload on key <id> until it completes.
 * Files that came by form post or presigned PUT have only <id>.
 */
import type { Readable } from 'node:stream'
import { PutObjectCommand, type S3, S3ServiceException, UploadPartCommand } from '@aws-sdk/client-s3'
import { Upload as MultipartUpload } from '@aws-sdk/lib-storage'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { S3Store } from '@tus/s3-store'
import { ERRORS as TUS_ERRORS, type Upload } from '@tus/utils'
import { create as contentDisposition } from 'content-disposition'
import type { S3Config } from '../config.ts'
import { AppError } from '../errors.ts'
import { contentTypeOf, filenameOf } from '../uploads/upload-metadata.ts'
import { safeFilename } from '../uploads/safe-filename.ts'
import { addContentMd5Fallback, s3ClientConfig } from './s3-client.ts'
import type { ByteRange, ObjectHeaders, PresignedMultipart, Storage, StoredPart } from './storage.ts'

/**
 * S3Store with the object's Content-Type and Content-Disposition taken from the
 * tus metadata Uppy and tus-js-client send (`filetype`, `filename`); the
 * library reads only a `contentType` key. The metadata itself is stored as the
 * client sent it, so HEAD echoes it unchanged, as the spec asks.
 */
class FiledockS3Store extends S3Store {
  readonly #objectHeaders = new Map<string, { ContentType: string; ContentDisposition: string }>()

  constructor(options: ConstructorParameters<typeof S3Store>[0]) {
    super(options)
    addContentMd5Fallback(this.client)
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: string; ContentType?: string; ContentDisposition?: string }
        const headers = context.commandName === 'CreateMultipartUploadCommand' && input.Key ? this.#objectHeaders.get(input.Key) : undefined
        if (headers) Object.assign(input, headers)
        return next(args)
      },
      { step: 'initialize', name: 'filedockObjectHeaders', override: true },
    )
  }

  override async create(upload: Upload): Promise<Upload> {
    this.#objectHeaders.set(upload.id, {
      ContentType: contentTypeOf(upload.metadata),
      ContentDisposition: contentDisposition(safeFilename(filenameOf(upload.metadata)), { type: 'attachment' }),
    })
    try {
      return await super.create(upload)
    } finally {
      this.#objectHeaders.delete(upload.id)
    }
  }

  /** The library reads any failure to fetch `<id>.info` as "no such upload"; only a real 404 is one. */
  override async getUpload(id: string): Promise<Upload> {
    try {
      await this.getMetadata(id)
    } catch (error) {
      if (isNotFound(error)) throw TUS_ERRORS.FILE_NOT_FOUND
      throw new AppError('ERR_STORAGE_UNAVAILABLE', { cause: error })
    }
    return super.getUpload(id)
  }

  get s3(): S3 {
    return this.client
  }

  forget(id: string): Promise<void> {
    return this.clearCache(id)
  }
}

const NOT_FOUND_CODES = new Set(['NoSuchKey', 'NoSuchUpload', 'NotFound'])

/** Only "it is not there" answers are translated; a network or auth error stays an error. */
function isNotFound(error: unknown): boolean {
  return error instanceof S3ServiceException && (NOT_FOUND_CODES.has(error.name) || error.$metadata?.httpStatusCode === 404)
}

function objectHeaders(headers: ObjectHeaders): { ContentType: string; ContentDisposition: string } {
  return { ContentType: headers.contentType, ContentDisposition: contentDisposition(safeFilename(headers.filename), { type: 'attachment' }) }
}

function presignedMultipart(s3: S3, bucket: string): PresignedMultipart {
  return {
    async create(id, headers) {
      const res = await s3.createMultipartUpload({ Bucket: bucket, Key: id, ...objectHeaders(headers) })
      if (!res.UploadId) throw new Error('CreateMultipartUpload answered no UploadId')
      return res.UploadId
    },
    async presignPart(id, uploadId, partNumber, expiresInSeconds) {
      // Nothing but the part is signed: parts differ in size, and the total is checked when the upload completes.
      return getSignedUrl(s3, new UploadPartCommand({ Bucket: bucket, Key: id, UploadId: uploadId, PartNumber: partNumber }), { expiresIn: expiresInSeconds })
    },
    async listParts(id, uploadId) {
      const parts: StoredPart[] = []
      let marker: string | undefined
      try {
        do {
          const res = await s3.listParts({ Bucket: bucket, Key: id, UploadId: uploadId, PartNumberMarker: marker })
          for (const p of res.Parts ?? []) parts.push({ partNumber: p.PartNumber ?? 0, size: p.Size ?? 0, etag: p.ETag ?? '' })
          marker = res.IsTruncated ? res.NextPartNumberMarker : undefined
        } while (marker)
      } catch (error) {
        if (isNotFound(error)) return undefined
        throw error
      }
      return parts.sort((a, b) => a.partNumber - b.partNumber)
    },
    async complete(id, uploadId, parts) {
      await s3.completeMultipartUpload({
        Bucket: bucket,
        Key: id,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      })
    },
  }
}

export type S3StorageOptions = { s3: S3Config; expirationMs: number }

export function createS3Storage(options: S3StorageOptions): Storage {
  const { bucket } = options.s3
  const datastore = new FiledockS3Store({
    partSize: options.s3.partSize,
    expirationPeriodInMilliseconds: options.expirationMs,
    // Object tagging is missing from many S3-compatible stores (Swift: 501); our
    // expiry sweep is driven by the database, not by tags.
    useTags: false,
    s3ClientConfig: { bucket, ...s3ClientConfig(options.s3) },
  })
  const s3 = datastore.s3

  async function multipartUploadsOf(id: string): Promise<{ Key: string; UploadId: string }[]> {
    const res = await s3.listMultipartUploads({ Bucket: bucket, Prefix: id })
    return (res.Uploads ?? []).filter((u): u is { Key: string; UploadId: string } => u.Key === id && Boolean(u.UploadId))
  }

  return {
    backend: 's3',
    datastore,
    keyFor: (id) => id,

    async read(id: string, range?: ByteRange): Promise<Readable> {
      try {
        const res = await s3.getObject({ Bucket: bucket, Key: id, Range: range ? `bytes=${range.start}-${range.end}` : undefined })
        return res.Body as Readable
      } catch (error) {
        if (isNotFound(error)) throw new AppError('ERR_FILE_NOT_FOUND', { cause: error })
        throw error
      }
    },

    async putObject(id: string, body: Readable, headers: ObjectHeaders): Promise<void> {
      // Parts of partSize, four in flight: five or six parts of memory per upload (lib-storage buffers them), whatever its size.
      // On a failed body the multipart upload is aborted (leavePartsOnError: false).
      const upload = new MultipartUpload({
        client: s3,
        params: { Bucket: bucket, Key: id, Body: body, ...objectHeaders(headers) },
        partSize: options.s3.partSize,
        queueSize: 4,
        leavePartsOnError: false,
      })
      await upload.done()
    },

    async statObject(id: string): Promise<{ size: number } | undefined> {
      try {
        const head = await s3.headObject({ Bucket: bucket, Key: id })
        return { size: head.ContentLength ?? 0 }
      } catch (error) {
        if (isNotFound(error)) return undefined
        throw error
      }
    },

    async presignPut(id, { size, expiresInSeconds, ...headers }): Promise<string> {
      // Content-Length and Content-Type are signed: the store refuses a body of another size or type.
      // Content-Disposition stays out: a signed header the client would have to repeat byte for byte (downloads set it anyway).
      const command = new PutObjectCommand({ Bucket: bucket, Key: id, ContentLength: size, ContentType: headers.contentType })
      return getSignedUrl(s3, command, { expiresIn: expiresInSeconds, signableHeaders: new Set(['content-length', 'content-type']) })
    },

    presignedMultipart: presignedMultipart(s3, bucket),

    async remove(id: string): Promise<void> {
      // Every multipart upload on the key, not only the one .info names: a crash
      // between CreateMultipartUpload and writing .info must not leave one behind.
      for (const upload of await multipartUploadsOf(id)) {
        try {
          await s3.abortMultipartUpload({ Bucket: bucket, Key: id, UploadId: upload.UploadId })
        } catch (error) {
          if (!isNotFound(error)) throw error
        }
      }
      await s3.deleteObjects({
        Bucket: bucket,
        Delete: { Objects: [{ Key: id }, { Key: `${id}.info` }, { Key: `${id}.part` }], Quiet: true },
      })
      await datastore.forget(id)
    },

    async leftovers(id: string): Promise<string[]> {
      const [objects, uploads] = await Promise.all([s3.listObjectsV2({ Bucket: bucket, Prefix: id }), multipartUploadsOf(id)])
      return [...(objects.Contents ?? []).map((o) => o.Key ?? ''), ...uploads.map((u) => `multipart-upload:${u.Key}`)]
    },

    async ping(): Promise<void> {
      await s3.headBucket({ Bucket: bucket })
    },

    async close(): Promise<void> {
      s3.destroy()
    },
  }
}
