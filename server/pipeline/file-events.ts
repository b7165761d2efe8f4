/**
 * "File X changed": told by the upload hooks and the worker, heard by
 * requests waiting on a file (long-poll, server-sent events) and by idle
 * workers. In one process it is an EventEmitter; with Postgres each change is
 * also a NOTIFY on FILE_CHANGED_CHANNEL, which every instance LISTENs to, so a
 * waiter on one instance hears a worker on another.
 */
import { EventEmitter } from 'node:events'

export const FILE_CHANGED_CHANNEL = 'filedock_file_changed'

export type FileEvents = {
  /** Announces a change of file `id` here and, when publishing is set up, to other instances. */
  changed(id: string): void
  /** Announces a change heard from another instance (does not publish again). */
  heard(id: string): void
  /** Calls `listener` on every change of file `id`; returns the unsubscribe function. */
  subscribe(id: string, listener: () => void): () => void
  /** Calls `listener` on every change of any file (idle workers wake on it). */
  subscribeAll(listener: (id: string) => void): () => void
}

export function createFileEvents(publish?: (id: string) => void): FileEvents {
  const emitter = new EventEmitter()
  emitter.setMaxListeners(0)
  const emit = (id: string) => {
    emitter.emit(id)
    emitter.emit('*', id)
  }
  return {
    changed(id) {
      emit(id)
      publish?.(id)
    },
    heard: emit,
    subscribe(id, listener) {
      emitter.on(id, listener)
      return () => emitter.off(id, listener)
    },
    subscribeAll(listener) {
      emitter.on('*', listener)
      return () => emitter.off('*', listener)
    },
  }
}
