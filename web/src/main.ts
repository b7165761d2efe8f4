/**
 * The page: reads the server's rules, asks for a credential when the server
 * wants one, then runs the uploader and the live file list side by side.
 */
import './styles.css'
import { createApi } from './api.ts'
import { askForCredential } from './auth-gate.ts'
import { authHeaders, saveCredential, savedCredential } from './credentials.ts'
import { createFileList } from './file-list.ts'
import { createUploader, rulesNote } from './uploader.ts'
import { ApiError, messageOf } from './api.ts'

let credential = savedCredential()
let asking: Promise<string> | undefined

/** Checks a credential the way every later request will use it. */
async function check(candidate: string): Promise<void> {
  const res = await fetch('/api/files?limit=1', { headers: authHeaders(candidate) })
  if (!res.ok) {
    const { code, message } = messageOf(res.status, await res.text())
    throw new ApiError(res.status, code, message)
  }
}

/** Asks once, however many requests were refused at the same moment. */
function reauthenticate(reason: string): Promise<string> {
  asking ??= askForCredential(check, `The server refused the saved key: ${reason}`).then((value) => {
    credential = value
    saveCredential(value)
    asking = undefined
    return value
  })
  return asking
}

async function start(): Promise<void> {
  const api = createApi({ credential: () => credential, onUnauthorized: (message) => void reauthenticate(message) })
  const config = await api.config()
  const signOut = document.querySelector<HTMLButtonElement>('#sign-out')!

  if (config.auth.required) {
    if (credential) {
      try {
        await check(credential)
      } catch {
        credential = undefined
        saveCredential(undefined)
      }
    }
    if (!credential) {
      credential = await askForCredential(check)
      saveCredential(credential)
    }
    signOut.hidden = false
    signOut.addEventListener('click', () => {
      saveCredential(undefined)
      location.reload()
    })
  }

  document.querySelector('#rules')!.textContent = rulesNote(config)
  document.querySelector<HTMLElement>('#uploader')!.hidden = false
  document.querySelector<HTMLElement>('#files')!.hidden = false

  const files = createFileList(api, {
    onDeleted(id) {
      // A file deleted while it was still uploading leaves the dashboard too.
      const local = uppy.getFiles().find((f) => f.tus?.uploadUrl?.endsWith(`/${id}`))
      if (local) uppy.removeFile(local.id)
    },
  })
  files.bindLoadMore()

  const fetchInto = (id: string) => {
    api.get(id).then(files.put, () => {})
  }
  const uppy = createUploader(config, () => credential, {
    progress(id, file) {
      if (!files.has(id)) fetchInto(id)
      const { bytesUploaded, bytesTotal } = file.progress
      if (bytesTotal) files.progress(id, Number(bytesUploaded) / bytesTotal)
    },
    finished: fetchInto,
    cancelled(id) {
      // The termination reaches the server a moment after Uppy forgets the file.
      setTimeout(() => {
        api.get(id).then(files.put, (err: unknown) => {
          if (err instanceof ApiError && err.status === 404) files.drop(id)
        })
      }, 500)
    },
    unauthorized: (message) => void reauthenticate(message),
  })

  // The list loads at once, and again on every (re)connection of the live stream: whatever changed meanwhile.
  void files.reload()
  const live = document.querySelector<HTMLElement>('#live')!
  const following = new AbortController()
  window.addEventListener('pagehide', () => following.abort())
  let connections = 0
  void api.follow(files.put, (connected) => {
    live.textContent = connected ? 'live' : 'reconnecting…'
    live.dataset.state = connected ? 'on' : 'off'
    if (connected && connections++ > 0) void files.reload()
  }, following.signal)
}

start().catch((err: unknown) => {
  const main = document.querySelector('main')!
  const box = document.createElement('p')
  box.className = 'card error'
  box.setAttribute('role', 'alert')
  box.textContent = `The page could not start: ${err instanceof Error ? err.message : String(err)}. Is the server running?`
  main.prepend(box)
})
