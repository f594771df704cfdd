import {writeFile} from 'node:fs/promises'
import type {EnvelopeKind, EventType} from '../../catalogue/types.js'
import {UsageError} from '../../errors.js'
import {loadProject} from '../project.js'

export interface AsyncApiExportResult {
  /** Where it was written; undefined for stdout. */
  file?: string
  text: string
  channels: number
  operations: number
  messages: number
}

/**
 * `evt events --asyncapi FILE`: the project's catalogue and topology as an AsyncAPI 3.0 document (YAML, or
 * JSON for a .json file; `-` for stdout), checked with the official parser before it is written.
 */
export async function exportProjectAsyncApi(input: {file: string; types?: EventType[]}): Promise<AsyncApiExportResult> {
  const project = loadProject()
  const {loadCatalogue} = await import('../../catalogue/catalogue.js')
  const {generateEvent} = await import('../../catalogue/generate.js')
  const {loadTopology} = await import('../../topology/load.js')
  const {toAsyncApi} = await import('./export.js')
  const {parseAsyncApi} = await import('./parse.js')
  const types = input.types ?? loadCatalogue().list()
  const defs = await loadTopology()
  const keys = new Map<EventType, string>()
  for (const type of types) keys.set(type, (await generateEvent(type, {seed: 1, envelope: 'none'})).routingKey)
  const envelope: EnvelopeKind = project.publish.envelope ?? 'standard'
  const doc = toAsyncApi({
    title: project.name,
    types,
    defs,
    envelope,
    sampleKey: (t) => keys.get(t) ?? t.routingKey,
  })
  const json = input.file.endsWith('.json')
  const text = json ? `${JSON.stringify(doc, null, 2)}\n` : (await import('yaml')).stringify(doc, {lineWidth: 0})
  // Our own output must pass the official validation: anything else is a bug worth failing loudly on.
  await parseAsyncApi(text, 'the exported document').catch((err: unknown) => {
    throw new UsageError(`evt produced an invalid AsyncAPI document: ${(err as Error).message}`, 'Please report it')
  })
  if (input.file !== '-') await writeFile(input.file, text)
  const count = (key: string) => Object.keys((doc[key] ?? {}) as object).length
  return {
    file: input.file === '-' ? undefined : input.file,
    text,
    channels: count('channels'),
    operations: count('operations'),
    messages: Object.keys(((doc.components as {messages?: object} | undefined)?.messages ?? {}) as object).length,
  }
}
