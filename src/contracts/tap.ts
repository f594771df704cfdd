import {Writable} from 'node:stream'
import type {StartTailOptions, TailSummary} from '../tail/index.js'

/**
 * Tap exchanges/queues through the tail module's public API and hand over each message as the object of
 * its NDJSON line (keys: seq, vhost, exchange, routingKey, properties, headers, bodyEncoding, body, ...).
 * Resolves with the tail's summary once it stops (count, timeout, idle, or the signal).
 */
export async function tapMessages<T>(
  options: Omit<StartTailOptions, 'output' | 'out'> & {signal?: AbortSignal},
  onMessage: (message: T) => void,
): Promise<TailSummary> {
  const {startTail} = await import('../tail/index.js')
  let rest = ''
  const take = (line: string) => {
    if (line.trim() !== '') onMessage(JSON.parse(line) as T)
  }
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      const lines = (rest + chunk.toString('utf8')).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) take(line)
      done()
    },
  })
  const {signal, ...tail} = options
  const {session} = await startTail({...tail, output: 'json', out, log: tail.log ?? (() => {})})
  const stop = () => session.stop('signal')
  signal?.addEventListener('abort', stop, {once: true})
  const summary = await session.done.finally(() => signal?.removeEventListener('abort', stop))
  take(rest)
  return summary
}
