/** The daemon's log: one line per event, to stderr unless told otherwise. */
export type Logger = (level: 'info' | 'error', message: string) => void

export function stderrLogger(): Logger {
  return (level, message) => {
    process.stderr.write(`${new Date().toISOString()} thriftbus[${process.pid}] ${level}: ${message}\n`)
  }
}

export const silentLogger: Logger = () => {}
