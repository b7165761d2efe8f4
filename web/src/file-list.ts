/**
 * The list under the dashboard: the caller's files as the server has them,
 * newest first, each row updated in place as changes arrive (status, then
 * description and key facts, or the failure reason), with download and delete.
 */
import { formatBytes } from '../../server/uploads/upload-rules.ts'
import type { Api } from './api.ts'
import { keyFacts } from './facts.ts'
import { type FileJson, listedBefore } from './file-json.ts'

const STATUS_WORDS: Record<string, string> = {
  uploading: 'uploading',
  uploaded: 'uploaded · queued',
  processing: 'processing',
  ready: 'ready',
  failed: 'failed',
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

export type FileList = ReturnType<typeof createFileList>

export function createFileList(api: Api, hooks: { onDeleted(id: string): void }) {
  const list = document.querySelector<HTMLUListElement>('#file-list')!
  const empty = document.querySelector<HTMLElement>('#files-empty')!
  const problem = document.querySelector<HTMLElement>('#files-error')!
  const more = document.querySelector<HTMLButtonElement>('#load-more')!
  const announcer = el('p', 'visually-hidden')
  announcer.setAttribute('role', 'status')
  list.after(announcer)

  const files = new Map<string, FileJson>()
  const rows = new Map<string, HTMLLIElement>()
  const progress = new Map<string, number>()
  let cursor: string | null = null

  const showProblem = (message: string | undefined) => {
    problem.textContent = message ?? ''
    problem.hidden = !message
  }

  function statusText(file: FileJson): string {
    if (file.status !== 'uploading') return STATUS_WORDS[file.status] ?? file.status
    const done = progress.get(file.id)
    return done === undefined ? 'uploading · unfinished' : `uploading · ${Math.floor(done * 100)}%`
  }

  function render(file: FileJson): HTMLLIElement {
    const row = el('li', 'file')
    row.dataset.id = file.id
    row.dataset.status = file.status
    const head = el('div', 'file-head')
    const name = el('span', 'file-name', file.filename)
    name.title = file.filename
    const status = el('span', `status status-${file.status}`, statusText(file))
    head.append(name, status)
    const facts = [file.size === null ? 'size not declared' : formatBytes(file.size), ...keyFacts(file.status === 'ready' ? file.metadata : null)]
    row.append(head, el('div', 'file-facts', facts.join(' · ')))
    if (file.status === 'ready' && file.description) row.append(el('p', 'file-description', file.description))
    if (file.status === 'failed' && file.error) row.append(el('p', 'file-error', file.error.message))
    const actions = el('div', 'file-actions')
    const download = el('button', 'secondary', 'Download')
    download.type = 'button'
    download.disabled = file.status === 'uploading'
    download.setAttribute('aria-label', `Download ${file.filename}`)
    download.addEventListener('click', () => {
      api.download(file).catch((err: Error) => showProblem(`Could not download ${file.filename}: ${err.message}`))
    })
    const remove = el('button', 'danger', 'Delete')
    remove.type = 'button'
    remove.setAttribute('aria-label', `Delete ${file.filename}`)
    let armed: ReturnType<typeof setTimeout> | undefined
    remove.addEventListener('click', () => {
      // Two presses: the first arms the button for a few seconds, so one stray click deletes nothing.
      if (!armed) {
        remove.textContent = 'Really delete?'
        armed = setTimeout(() => {
          armed = undefined
          remove.textContent = 'Delete'
        }, 4000)
        return
      }
      clearTimeout(armed)
      remove.disabled = true
      api.remove(file.id).then(
        () => {
          drop(file.id)
          hooks.onDeleted(file.id)
        },
        (err: Error) => {
          remove.disabled = false
          showProblem(`Could not delete ${file.filename}: ${err.message}`)
        },
      )
    })
    actions.append(download, remove)
    row.append(actions)
    return row
  }

  function refreshEmpty(): void {
    empty.hidden = files.size > 0
  }

  /** Adds or updates a file; rows stay in the server's order (newest first). */
  function put(file: FileJson): void {
    const known = files.get(file.id)
    // Changes can arrive out of order (a stream and a fetch); the later record wins.
    if (known && known.updatedAt > file.updatedAt) return
    if (known && known.status !== file.status && (file.status === 'ready' || file.status === 'failed')) {
      announcer.textContent = `${file.filename} is ${file.status}`
    }
    files.set(file.id, file)
    const row = render(file)
    const old = rows.get(file.id)
    if (old) {
      // Keyboard users keep their place: the button that had focus has it again in the new row.
      const focused = old.contains(document.activeElement) ? (document.activeElement as HTMLElement).className : undefined
      old.replaceWith(row)
      if (focused) row.querySelector<HTMLElement>(`.file-actions .${focused.split(' ')[0]}`)?.focus()
    } else {
      // Before the first row that comes after it in the server's order (the map's order is arrival order, not the list's).
      const older = [...list.children].find((child) => {
        const shown = files.get((child as HTMLElement).dataset.id ?? '')
        return !shown || listedBefore(file, shown)
      })
      if (older) older.before(row)
      else list.append(row)
    }
    rows.set(file.id, row)
    refreshEmpty()
  }

  function drop(id: string): void {
    files.delete(id)
    progress.delete(id)
    rows.get(id)?.remove()
    rows.delete(id)
    refreshEmpty()
  }

  return {
    put,
    drop,
    has: (id: string) => files.has(id),
    /** Upload progress from Uppy, shown on an uploading row. */
    progress(id: string, fraction: number): void {
      progress.set(id, fraction)
      const file = files.get(id)
      const status = rows.get(id)?.querySelector('.status')
      if (file && status && file.status === 'uploading') status.textContent = statusText(file)
    },
    /** Loads the first page again (after a reconnect: whatever changed meanwhile). */
    async reload(): Promise<void> {
      try {
        const page = await api.list()
        for (const file of page.files) put(file)
        if (cursor === null || files.size <= page.files.length) {
          cursor = page.nextCursor
          more.hidden = cursor === null
        }
        showProblem(undefined)
      } catch (err) {
        showProblem(`Could not load your files: ${(err as Error).message}`)
      }
      refreshEmpty()
    },
    async loadMore(): Promise<void> {
      if (!cursor) return
      const page = await api.list(cursor)
      for (const file of page.files) put(file)
      cursor = page.nextCursor
      more.hidden = cursor === null
    },
    bindLoadMore(): void {
      more.addEventListener('click', () => {
        this.loadMore().catch((err: Error) => showProblem(`Could not load more files: ${err.message}`))
      })
    },
  }
}
