/** Asks for a token or API key once, checks it with the server, and keeps it for the session. */
import { ApiError } from './api.ts'

export function askForCredential(check: (credential: string) => Promise<void>, reason?: string): Promise<string> {
  const gate = document.querySelector<HTMLElement>('#auth-gate')!
  const form = document.querySelector<HTMLFormElement>('#auth-form')!
  const input = document.querySelector<HTMLInputElement>('#auth-token')!
  const error = document.querySelector<HTMLElement>('#auth-error')!
  const showError = (message: string | undefined) => {
    error.textContent = message ?? ''
    error.hidden = !message
    input.setAttribute('aria-invalid', message ? 'true' : 'false')
  }
  gate.hidden = false
  showError(reason)
  input.value = ''
  input.focus()
  return new Promise((resolve) => {
    const submit = async (event: SubmitEvent) => {
      event.preventDefault()
      const credential = input.value.trim()
      if (!credential) return showError('Paste a token or an API key first.')
      const button = form.querySelector('button')!
      button.disabled = true
      try {
        await check(credential)
        form.removeEventListener('submit', submit)
        gate.hidden = true
        showError(undefined)
        resolve(credential)
      } catch (err) {
        showError(err instanceof ApiError ? `The server refused it: ${err.message}` : 'The server could not be reached; try again.')
        input.select()
      } finally {
        button.disabled = false
      }
    }
    form.addEventListener('submit', submit)
  })
}
