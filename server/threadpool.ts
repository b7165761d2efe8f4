/**
 * Imported first by main.ts, before anything can touch libuv's thread pool
 * (which reads this variable once, on first use).
 *
 * Every write of every upload, and the stat/read behind each HEAD on the local
 * disk, run on that pool; at its default of 4 threads a resume check queued
 * behind hundreds of streaming uploads waits seconds. An operator's own
 * UV_THREADPOOL_SIZE wins.
 */
process.env.UV_THREADPOOL_SIZE ??= '16'
