/** Row types of the database; they stay inside db/. Callers get the records from file.repository.ts. */
import type { ColumnType, Generated } from 'kysely'

export const FILE_STATUSES = ['uploading', 'uploaded', 'processing', 'ready', 'failed'] as const
export type FileStatus = (typeof FILE_STATUSES)[number]

/** int8 comes back as a string from pg and as a number or bigint from PGlite: always read through Number(). */
type BigIntColumn = ColumnType<string | number | bigint, number, number>
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>

export interface FileTable {
  id: string
  owner_id: string
  filename: string
  content_type: string
  declared_size: ColumnType<string | number | bigint | null, number | null | undefined, number | null>
  size: ColumnType<string | number | bigint | null, number | null | undefined, number | null>
  status: FileStatus
  storage_backend: 'file' | 's3'
  storage_key: string
  upload_metadata: ColumnType<Record<string, string | null>, string, string>
  metadata: ColumnType<Record<string, unknown>, string | undefined, string>
  description: string | null
  error_code: string | null
  error_message: string | null
  created_at: Generated<Date>
  updated_at: Generated<Date>
  uploaded_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  processing_started_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  processed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  conversation_id: ColumnType<string | null, string | null | undefined, string | null>
}

export interface ApiKeyTable {
  id: string
  user_id: string
  secret_hash: string
  label: string | null
  created_at: Generated<Date>
  last_used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

export const JOB_STATUSES = ['queued', 'running', 'done', 'failed'] as const
export type JobStatus = (typeof JOB_STATUSES)[number]

export interface JobTable {
  file_id: string
  status: Generated<JobStatus>
  attempts: Generated<number>
  run_at: Generated<Date>
  lease_token: string | null
  lease_expires_at: Date | null
  last_error: string | null
  created_at: Generated<Date>
  updated_at: Generated<Date>
}

export interface FileTextTable {
  file_id: string
  seq: number
  title: string
  body: string
}

export interface UploadLockTable {
  upload_id: string
  holder: string
  expires_at: ColumnType<Date, Date | string, Date | string>
  acquired_at: Generated<Date>
}

export interface Database {
  file: FileTable
  upload_lock: UploadLockTable
  job: JobTable
  file_text: FileTextTable
  api_key: ApiKeyTable
}

export type { BigIntColumn, Timestamp }
