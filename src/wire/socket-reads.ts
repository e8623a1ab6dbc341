/**
 * Socket reads through `onread`, for the daemon's connections and the SDK's alike. libuv reads into one buffer
 * that this module owns, and the socket's sink decodes from it at once. Node then allocates no Buffer per read
 * and skips its stream machinery (push, the 'data' event, maybeReadMore on the next tick). Counted with
 * bench/micro/rtt-instructions.mjs, that took 18% off the daemon's instructions a round trip and 26% off an
 * echoing client's.
 *
 * One buffer serves every socket of the process. That is safe because a read is handed to its sink, and the
 * sink is done with it (FrameReader.release() copies the bytes it has not consumed), before libuv reads again
 * into the buffer, for this socket or any other. A sink must keep nothing that points into the buffer.
 */
import { connect, Socket, type SocketConstructorOpts } from 'node:net'

/** Decodes buf[0, length) before it returns: the buffer is overwritten by the next read. */
export interface ReadSink {
  received(buf: Buffer, length: number): void
}

/** Node's own read size: libuv reads at most this much at once. */
const READ_BUFFER_BYTES = 64 * 1024
const READ_BUFFER = Buffer.allocUnsafe(READ_BUFFER_BYTES)

/** The sink of each socket opened here; a socket opened here and not yet given one drops what it reads. */
const sinks = new WeakMap<Socket, ReadSink | undefined>()

function onread(this: Socket, length: number, buf: Uint8Array): boolean {
  sinks.get(this)?.received(buf as Buffer, length)
  return true
}

const ONREAD = { buffer: READ_BUFFER, callback: onread }

/** Connects to a Unix socket (or Windows pipe) read through `onread`; readInto() gives it its sink. */
export function connectReading(path: string): Socket {
  const socket = connect({ path, onread: ONREAD })
  sinks.set(socket, undefined)
  return socket
}

/**
 * Moves an accepted connection to a socket read through `onread`, and returns that socket. net.Server cannot
 * make its sockets so. The connection's handle (`_handle`: Node has kept it since 0.x but does not document it)
 * goes to a new Socket made with `onread`. The accepted socket stays behind without a handle, so that the
 * server still counts the connection (for maxConnections and close()), and is destroyed when the new one closes.
 *
 * The server must be created with `pauseOnConnect`, so that the accepted socket has not started reading. When
 * the handle is not what this expects (a future Node), the accepted socket itself is returned, reading again,
 * and readInto() reads it through 'data' events.
 */
export function takeReads(accepted: Socket): Socket {
  const shell = accepted as unknown as { _handle: { useUserBuffer?: unknown } | null }
  const handle = shell._handle
  if (handle === null || typeof handle.useUserBuffer !== 'function') {
    accepted.resume()
    return accepted
  }
  shell._handle = null
  const socket = new Socket({ handle, onread: ONREAD, readable: true, writable: true } as SocketConstructorOpts)
  sinks.set(socket, undefined)
  socket.once('close', () => accepted.destroy())
  return socket
}

/** Hands the socket's reads to sink: through `onread` when the socket came from here, else as 'data' events. */
export function readInto(socket: Socket, sink: ReadSink): void {
  if (sinks.has(socket)) sinks.set(socket, sink)
  else socket.on('data', (chunk: Buffer) => sink.received(chunk, chunk.length))
}
