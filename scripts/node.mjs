#!/usr/bin/env node
// Runs a script under a Node that can execute TypeScript directly (>= 22.18,
// or 23.6+). When the Node on PATH is older, Node 24 LTS is installed once from
// the npm registry into .tools/ (ignored by git) and used instead. The system
// Node is never replaced. Plain JS on purpose: it must run on old Nodes too.
import { spawnSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const local = path.join(root, '.tools', 'node_modules', '.bin', process.platform === 'win32' ? 'node.cmd' : 'node')

function canStripTypes(version) {
  const [major, minor] = version.split('.').map(Number)
  return major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18)
}

function needsFlag(version) {
  const [major, minor] = version.split('.').map(Number)
  return (major === 22 && minor >= 12) || (major === 23 && minor < 6)
}

let node = process.execPath
const flags = []
if (needsFlag(process.versions.node)) {
  flags.push('--experimental-strip-types', '--no-warnings=ExperimentalWarning')
} else if (!canStripTypes(process.versions.node)) {
  if (!existsSync(local)) {
    process.stderr.write(`filedock: Node ${process.versions.node} cannot run TypeScript; installing Node 24 into .tools/ (once)\n`)
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
    const r = spawnSync(npm, ['install', '--prefix', path.join(root, '.tools'), '--no-save', '--no-audit', '--no-fund', 'node@24'], { stdio: 'inherit' })
    if (r.status !== 0 || !existsSync(local)) {
      process.stderr.write('filedock: could not install Node 24; install Node >= 22.18 and try again\n')
      process.exit(1)
    }
  }
  node = local
}

const child = spawn(node, [...flags, ...process.argv.slice(2)], { stdio: 'inherit', cwd: process.cwd() })
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal)
  else process.exit(code ?? 1)
})
