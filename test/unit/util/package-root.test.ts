import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {builtinFixturesDir} from '../../../src/project/paths.js'
import {findPackageRoot, packageRoot, runsFromSource} from '../../../src/util/package-root.js'

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

  it('takes no other package for evt’s, even one with fixtures/ (evt bundled into a team’s program)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'evt-root-'))
    try {
      const module = join(dir, 'app', 'build', 'out')
      mkdirSync(module, {recursive: true})
      mkdirSync(join(dir, 'fixtures'))
      writeFileSync(join(dir, 'package.json'), JSON.stringify({name: 'their-app'}))
      expect(findPackageRoot(module)).toBe(join(module, '..', '..'))
      writeFileSync(join(dir, 'package.json'), JSON.stringify({name: 'evt-rabbitmq'}))
      expect(findPackageRoot(module)).toBe(dir)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
