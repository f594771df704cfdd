import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {builtinFixturesDir} from '../../../src/project/paths.js'
import {packageRoot, runsFromSource} from '../../../src/util/package-root.js'

describe('packageRoot', () => {
  it('is the folder of evt’s package.json, with its fixtures', () => {
    const root = packageRoot()
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name).toBe('evt-rabbitmq')
    expect(builtinFixturesDir()).toBe(join(root, 'fixtures'))
    expect(existsSync(join(builtinFixturesDir(), 'events'))).toBe(true)
  })

  it('knows that tests run from the TypeScript sources', () => {
    expect(runsFromSource()).toBe(true)
  })
})
