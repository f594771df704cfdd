import type {AsyncAPIDocumentInterface} from '@asyncapi/parser'
import {UsageError} from '../../errors.js'

/** The install line for AsyncAPI support (an optional peer: it triples a plain install, 28 MB to 74 MB). */
export const ASYNCAPI_PARSER_INSTALL = 'npm i @asyncapi/parser@3.6.6'

async function loadParser() {
  try {
    return await import('@asyncapi/parser')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err
    throw new UsageError(
      'AsyncAPI import and export need @asyncapi/parser, which is not installed',
      `Install it next to evt (\`${ASYNCAPI_PARSER_INSTALL}\`, or with -g beside a global evt)`,
    )
  }
}

/**
 * Parse and validate an AsyncAPI 2.x or 3.x document with the official parser (loaded on first use: it
 * is an optional peer of ~45 MB that takes ~0.2 s to import). Errors are exit 2 with the document path of each.
 */
export async function parseAsyncApi(text: string, shown: string): Promise<AsyncAPIDocumentInterface> {
  const {Parser, DiagnosticSeverity} = await loadParser()
  const parser = new Parser()
  const {document, diagnostics} = await parser.parse(text)
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error)
  if (!document || errors.length > 0) {
    const lines = errors.slice(0, 5).map((d) => `${d.path.length > 0 ? d.path.join('.') : '$'}: ${d.message}`)
    const more = errors.length > 5 ? ` (and ${errors.length - 5} more)` : ''
    throw new UsageError(
      `${shown} is not a valid AsyncAPI document: ${lines.join('; ') || 'unreadable'}${more}`,
      'Check it with the AsyncAPI Studio or `asyncapi validate`; evt reads AsyncAPI 2.x and 3.x',
    )
  }
  return document
}

/** A schema as the parser returns it, without the parser's own bookkeeping keys (x-parser-*). */
export function cleanSchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cleanSchema)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith('x-parser-') || key === '$schema' || key === '$id') continue
    out[key] = cleanSchema(child)
  }
  return out
}
