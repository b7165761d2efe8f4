/** The JSON shape of a file record in the REST API (DESIGN.md's contract). */
import type { FileRecord } from '../db/file.repository.ts'

export type FileJson = ReturnType<typeof toFileJson>

export function toFileJson(file: FileRecord) {
  return {
    id: file.id,
    filename: file.filename,
    conversationId: file.conversationId,
    contentType: file.contentType,
    size: file.size,
    status: file.status,
    description: file.description,
    metadata: file.metadata,
    uploadMetadata: file.uploadMetadata,
    error: file.error,
    createdAt: file.createdAt.toISOString(),
    updatedAt: file.updatedAt.toISOString(),
    uploadedAt: file.uploadedAt?.toISOString() ?? null,
    expiresAt: file.expiresAt?.toISOString() ?? null,
    processingStartedAt: file.processingStartedAt?.toISOString() ?? null,
    processedAt: file.processedAt?.toISOString() ?? null,
    uploadUrl: `/files/${file.id}`,
    contentUrl: `/api/files/${file.id}/content`,
    textUrl: `/api/files/${file.id}/text`,
  }
}
