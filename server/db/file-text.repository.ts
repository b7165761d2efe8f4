/** The extracted text of a file, in ordered sections (see the job migration). */
import type { Kysely, Transaction } from 'kysely'
import type { Database } from './schema.ts'

type Db = Kysely<Database> | Transaction<Database>

export type TextSectionRecord = { index: number; title: string; text: string }

/** Replaces the text of a file (a re-processed file gets its new text). */
export async function replaceFileText(db: Db, fileId: string, sections: readonly { title: string; text: string }[]): Promise<void> {
  await db.deleteFrom('file_text').where('file_id', '=', fileId).execute()
  // Batches keep each statement's parameter count far below Postgres' 65,535.
  for (let i = 0; i < sections.length; i += 500) {
    const batch = sections.slice(i, i + 500).map((s, j) => ({ file_id: fileId, seq: i + j, title: s.title, body: s.text }))
    await db.insertInto('file_text').values(batch).execute()
  }
}

/** Sections from `from` on, in order, up to `limit` of them. */
export async function listFileText(db: Db, fileId: string, from: number, limit: number): Promise<TextSectionRecord[]> {
  const rows = await db
    .selectFrom('file_text')
    .select(['seq', 'title', 'body'])
    .where('file_id', '=', fileId)
    .where('seq', '>=', from)
    .orderBy('seq')
    .limit(limit)
    .execute()
  return rows.map((r) => ({ index: Number(r.seq), title: r.title, text: r.body }))
}

export async function countFileText(db: Db, fileId: string): Promise<number> {
  const row = await db.selectFrom('file_text').select((eb) => eb.fn.countAll<string | number>().as('n')).where('file_id', '=', fileId).executeTakeFirstOrThrow()
  return Number(row.n)
}
