/** The daemon's log: one line per start, stop and error, to stderr or appended to a file. */
import { appendFileSync } from 'node:fs'

export type Logger = (level: 'info' | 'error', message: string) => void

function line(level: string, message: string): string {
  return `${new Date().toISOString()} thriftbus[${process.pid}] ${level}: ${message}\n`
}

export function stderrLogger(): Logger {
  return (level, message) => {
    process.stderr.write(line(level, message))
  }
}

/**
 * Appends to a file, synchronously: the log is a few lines per start, stop and error, and a line written
 * just before a crash must not be lost. A daemon started by the SDK logs this way, with no pipe to the
 * program that started it.
 */
export function fileLogger(path: string): Logger {
  return (level, message) => {
    const text = line(level, message)
    try {
      appendFileSync(path, text, { mode: 0o600 })
    } catch {
      // The state folder was removed under us: a log line is not worth the daemon.
      process.stderr.write(text)
    }
  }
}

export const silentLogger: Logger = () => {}
