/** Helpers for the REST API suites: whole uploads over raw tus, JSON error answers. */
import { expect } from 'vitest'
import { createUpload, idOf, patch, sha256 } from './tus.ts'

/** Creates an upload and sends `data` in one PATCH; returns the file id. */
export async function uploadFile(base: string, data: Uint8Array, meta: Record<string, string>): Promise<string> {
  const url = await createUpload(base, data.length, meta)
  if (data.length > 0) {
    const res = await patch(url, 0, data)
    if (res.status !== 204) throw new Error(`PATCH failed: ${res.status} ${await res.text()}`)
  }
  return idOf(url)
}

/** Asserts a REST error answer: the status and { error: { code, message } } as JSON. */
export async function expectJsonError(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } }
  expect(body).toEqual({ error: { code, message: expect.any(String) } })
  expect(body.error?.message).not.toBe('')
}

/** Asserts a REST error answer as expectJsonError does; returns its message. */
export async function errorOf(res: Response, status: number, code: string): Promise<string> {
  const body = (await res.clone().json()) as { error: { message: string } }
  await expectJsonError(res, status, code)
  return body.error.message
}

/** The file record of `id` (asserting it exists). */
export async function fileJson<T = { status: string; size: number | null }>(base: string, id: string): Promise<T> {
  const res = await fetch(`${base}/api/files/${id}`)
  expect(res.status).toBe(200)
  return (await res.json()) as T
}

/** sha256 of what /api/files/:id/content serves (asserting a 200). */
export async function contentSha(base: string, id: string): Promise<string> {
  const res = await fetch(`${base}/api/files/${id}/content`)
  expect(res.status).toBe(200)
  return sha256(new Uint8Array(await res.arrayBuffer()))
}
