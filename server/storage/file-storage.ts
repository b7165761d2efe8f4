/**
 * Local-disk storage (the embedded default), through @tus/file-store.
 *
 * Layout under `directory`:
 *   <id>       the bytes, growing as PATCHes land (its size is the upload offset)
 *   <id>.json  the tus upload info (size, metadata, creation_date); absent
 *              for files that came by form post, which are written whole
 */
import { constants as fsConstants } from 'node:fs'
import { createWriteStream } from 'node:fs'
import { access, mkdir, open, readdir, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { FileStore } from '@tus/file-store'
import { AppError } from '../errors.ts'
import type { ByteRange, Storage } from './storage.ts'

export type FileStorageOptions = { directory: string; expirationMs: number }

export async function createFileStorage(options: FileStorageOptions): Promise<Storage> {
  const directory = path.resolve(options.directory)
  await mkdir(directory, { recursive: true })
  const datastore = new FileStore({ directory, expirationPeriodInMilliseconds: options.expirationMs })
  // Upload ids are UUIDs (see tus/naming); anything else never names a file here.
  const fileOf = (id: string) => {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new AppError('ERR_FILE_NOT_FOUND')
    return path.join(directory, id)
  }

  return {
    backend: 'file',
    datastore,
    keyFor: (id) => id,

    async read(id: string, range?: ByteRange): Promise<Readable> {
      let handle
      try {
        handle = await open(fileOf(id), 'r')
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('ERR_FILE_NOT_FOUND', { cause: error })
        throw error
      }
      return handle.createReadStream(range ? { start: range.start, end: range.end } : {})
    },

    async putObject(id: string, body: Readable): Promise<void> {
      // 'wx': never over an existing upload's bytes. The served type and name come from the row.
      await pipeline(body, createWriteStream(fileOf(id), { flags: 'wx' }))
    },

    async statObject(id: string): Promise<{ size: number } | undefined> {
      try {
        return { size: (await stat(fileOf(id))).size }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw error
      }
    },

    async remove(id: string): Promise<void> {
      const file = fileOf(id)
      await Promise.all([rm(file, { force: true }), rm(`${file}.json`, { force: true })])
    },

    async leftovers(id: string): Promise<string[]> {
      fileOf(id)
      const names = await readdir(directory)
      return names.filter((n) => n === id || n.startsWith(`${id}.`))
    },

    async ping(): Promise<void> {
      await access(directory, fsConstants.R_OK | fsConstants.W_OK)
    },

    async close(): Promise<void> {},
  }
}
