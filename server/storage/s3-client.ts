/**
 * S3 client settings that make @aws-sdk/client-s3 work on S3-compatible stores
 * (MinIO, Ceph RGW, Swift s3api, R2 ...) as well as on AWS:
 *
 * - checksums only when an operation requires them: since SDK 3.729 streamed
 *   bodies go out aws-chunked with a CRC32 trailer, which many stores refuse
 *   (Swift: 501 NotImplemented);
 * - DeleteObjects carries Content-MD5 instead of x-amz-checksum-*: stores that
 *   predate flexible checksums demand it ("Missing required header ...
 *   Content-MD5"), and AWS accepts it (the SDK's documented "MD5 fallback").
 */
import { createHash } from 'node:crypto'
import type { S3, S3ClientConfig } from '@aws-sdk/client-s3'
import type { S3Config } from '../config.ts'

export function s3ClientConfig(config: S3Config): S3ClientConfig {
  return {
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    // A copy: the SDK writes bookkeeping fields onto the credentials object it is given.
    credentials: config.credentials ? { ...config.credentials } : undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  }
}

type BuildArgs = { request: { headers?: Record<string, string>; body?: unknown } }

export function addContentMd5Fallback(client: Pick<S3, 'middlewareStack'>): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = (args as BuildArgs).request
      if (context.commandName === 'DeleteObjectsCommand' && request.headers && (typeof request.body === 'string' || request.body instanceof Uint8Array)) {
        for (const name of Object.keys(request.headers)) {
          if (name.toLowerCase().startsWith('x-amz-checksum-') || name.toLowerCase() === 'x-amz-sdk-checksum-algorithm') delete request.headers[name]
        }
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64')
      }
      return next(args)
    },
    { step: 'build', priority: 'low', name: 'filedockContentMd5Fallback', override: true },
  )
}
