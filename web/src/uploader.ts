/**
 * The Uppy setup: Dashboard for picking, progress, pause/resume and cancel;
 * tus for the bytes; Golden Retriever so a reload or a browser restart
 * continues from the server's offset. The server's rules (GET /api/config)
 * are checked before a file is accepted, with the server's own words
 * (server/uploads/upload-rules.ts, imported as is).
 */
import Uppy, { type UppyFile } from '@uppy/core'
import Dashboard from '@uppy/dashboard'
import GoldenRetriever from '@uppy/golden-retriever'
import Tus from '@uppy/tus'
import '@uppy/core/css/style.min.css'
import '@uppy/dashboard/css/style.min.css'
import { type ClientConfig, formatBytes, sizeRefusal, typeRefusal } from '../../server/uploads/upload-rules.ts'
import { messageOf } from './api.ts'
import { authHeaders } from './credentials.ts'

type Meta = Record<string, unknown>
type Body = Record<string, never>
export type UploaderFile = UppyFile<Meta, Body>

/**
 * Waits between attempts after a network error or a 409/423/429/5xx. tus-js-client starts the list
 * again whenever an attempt moved the server's offset, so a link that drops every few seconds but
 * delivers bytes in between keeps going; a dead one gives up after about two minutes.
 */
export const RETRY_DELAYS = [0, 1000, 2000, 4000, 8000, 15_000, 30_000, 30_000, 30_000]

/** Restored blobs live in IndexedDB; larger files come back as "re-select this file", then resume from the server's offset. */
const RESTORE_MAX_FILE = 1024 ** 3
const RESTORE_MAX_TOTAL = 4 * 1024 ** 3

export type UploaderEvents = {
  /** The server created the upload (its id is known) or it moved on. */
  progress(serverId: string, file: UploaderFile): void
  /** The last byte arrived. */
  finished(serverId: string): void
  /** Cancelled by the person: the upload was terminated on the server. */
  cancelled(serverId: string): void
  /** The server refused the credential. */
  unauthorized(message: string): void
}

/** The upload id is the last path segment of the tus upload URL (/files/<id>). */
export function serverIdOf(file: UploaderFile | undefined): string | undefined {
  const url = file?.tus?.uploadUrl
  if (!url) return undefined
  return decodeURIComponent(new URL(url, location.href).pathname.split('/').pop() ?? '') || undefined
}

/** The line under the drop zone: the same limits the server applies. */
export function rulesNote(config: ClientConfig): string {
  const types = config.allowedTypes.any ? 'any type' : config.allowedTypes.label
  return `Up to ${formatBytes(config.maxUploadSize)} per file · ${types}`
}

function acceptList(config: ClientConfig): string[] | undefined {
  const rules = config.allowedTypes
  return rules.any ? undefined : [...rules.extensions.map((e) => `.${e}`), ...rules.mediaTypes]
}

export function createUploader(config: ClientConfig, credential: () => string | undefined, events: UploaderEvents): Uppy<Meta, Body> {
  const uppy = new Uppy<Meta, Body>({
    id: 'filedock',
    autoProceed: true,
    restrictions: { maxFileSize: config.maxUploadSize, allowedFileTypes: acceptList(config) },
    // Runs before Uppy's own restriction checks: the server's judgement, in the server's words.
    onBeforeFileAdded(file, files) {
      const refusal = sizeRefusal(config.maxUploadSize, file.size ?? 0) ?? typeRefusal(config.allowedTypes, file.name ?? '', file.type)
      if (refusal) {
        uppy.info({ message: `${file.name}: ${refusal}` }, 'error', 10_000)
        return false
      }
      return !Object.hasOwn(files, file.id)
    },
  })
  uppy
    .use(Dashboard, {
      inline: true,
      target: '#dashboard',
      width: '100%',
      height: 380,
      theme: 'auto',
      hideProgressDetails: false,
      proudlyDisplayPoweredByUppy: false,
      note: rulesNote(config),
      doneButtonHandler: () => {
        // "Done" clears the finished uploads from the dashboard; the list below keeps them.
        for (const file of uppy.getFiles()) if (file.progress.uploadComplete) uppy.removeFile(file.id)
      },
    })
    .use(Tus, {
      endpoint: config.tus.endpoint,
      chunkSize: config.tus.chunkSize,
      retryDelays: RETRY_DELAYS,
      limit: 3,
      removeFingerprintOnSuccess: true,
      allowedMetaFields: ['name', 'type'],
      headers: () => authHeaders(credential()),
    })
    // maxFileSize/maxTotalSize are honoured by its IndexedDB store but missing from its option types.
    .use(GoldenRetriever, { indexedDB: { maxFileSize: RESTORE_MAX_FILE, maxTotalSize: RESTORE_MAX_TOTAL } as object })

  uppy.on('upload-progress', (file) => {
    const latest = file && uppy.getFile(file.id)
    const id = serverIdOf(latest)
    if (latest && id) events.progress(id, latest)
  })
  uppy.on('upload-success', (file) => {
    const id = serverIdOf(file && uppy.getFile(file.id))
    if (id) events.finished(id)
  })
  // Removing an unfinished file terminates its upload on the server (@uppy/tus sends the DELETE).
  uppy.on('file-removed', (file) => {
    const id = serverIdOf(file)
    if (id && !file.progress.uploadComplete) events.cancelled(id)
  })
  // The server's words instead of tus-js-client's request dump.
  uppy.on('upload-error', (file, error, response) => {
    if (!file) return
    const xhr = (response as { body?: { xhr?: XMLHttpRequest } } | undefined)?.body?.xhr
    const status = response?.status ?? xhr?.status ?? 0
    const message = status > 0 && xhr ? messageOf(status, xhr.responseText).message : `could not reach the server (${error.message.split(',')[0]})`
    uppy.setFileState(file.id, { error: message })
    if (status === 401) events.unauthorized(message)
  })
  // After a reload Golden Retriever brings the files back; carry on without waiting for a click.
  uppy.on('restored', () => {
    // Only uploads with a file still to send: a finished file comes back without its bytes (Golden Retriever drops
    // them), and restoring its upload would only fail ("File data is empty").
    for (const [uploadID, upload] of Object.entries(uppy.getState().currentUploads)) {
      const pending = upload.fileIDs.some((id) => {
        const file = uppy.getFile(id)
        return file !== undefined && !file.progress.uploadComplete && file.data != null
      })
      if (pending) uppy.restore(uploadID).catch(() => {})
    }
  })
  return uppy
}
