import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Faker} from '@faker-js/faker'
import {afterAll, describe, expect, it} from 'vitest'
import {loadEnglishFaker, writeFakerDefinitions} from '../../src/catalogue/faker-locale.js'
import {fastRandomizer} from '../../src/catalogue/prng.js'

const dir = mkdtempSync(join(tmpdir(), 'evt-faker-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** A spread of faker calls over many categories, the same seed for each. */
function sample(faker: Faker): unknown[] {
  const refDate = new Date('2031-05-01T00:00:00Z')
  const out: unknown[] = []
  for (let seed = 1; seed <= 25; seed++) {
    faker.seed(seed)
    out.push(
      faker.person.fullName(),
      faker.internet.email(),
      faker.commerce.productName(),
      faker.location.city(),
      faker.location.streetAddress(),
      faker.company.name(),
      faker.lorem.sentence(),
      faker.finance.currencyCode(),
      faker.phone.number(),
      faker.date.recent({days: 30, refDate}).toISOString(),
      faker.word.words(3),
      faker.music.genre(),
    )
  }
  return out
}

describe('loadEnglishFaker', () => {
  it('gives the same values from the build-time JSON as from faker’s English locale', async () => {
    const file = join(dir, 'faker-en.json')
    expect(await writeFakerDefinitions(file)).toBeGreaterThan(10)
    const fromJson = await loadEnglishFaker(fastRandomizer(), file)
    const fromLocale = await loadEnglishFaker(fastRandomizer(), join(dir, 'missing.json'))
    const values = sample(fromJson)
    expect(values).toEqual(sample(fromLocale))
    // A control: the sample depends on the seed, so equal samples are not a vacuous match.
    fromLocale.seed(999)
    expect(fromLocale.person.fullName()).not.toBe(values[0])
  })

  it('uses the locale module when the file is of another faker version or cut short', async () => {
    const file = join(dir, 'faker-en-checked.json')
    await writeFakerDefinitions(file)
    const text = readFileSync(file, 'latin1')
    const older = join(dir, 'faker-en-older.json')
    writeFileSync(older, text.replace(/^\{"faker":"[^"]+"/, '{"faker":"0.0.1"'))
    const short = join(dir, 'faker-en-short.json')
    writeFileSync(short, text.slice(0, text.length - 1000))
    for (const f of [older, short]) {
      const faker = await loadEnglishFaker(fastRandomizer(), f)
      faker.seed(3)
      // The locale module's data: no lazy getters left anywhere.
      const raw = faker.rawDefinitions as Record<string, unknown>
      expect(Object.getOwnPropertyDescriptor(raw, 'vehicle')?.get).toBeUndefined()
      expect(faker.person.fullName()).toMatch(/\S+ \S+/)
    }
  })

  it('parses a category only when faker first reads it', async () => {
    const file = join(dir, 'faker-en-lazy.json')
    await writeFakerDefinitions(file)
    const faker = await loadEnglishFaker(fastRandomizer(), file)
    faker.person.firstName()
    const raw = faker.rawDefinitions as Record<string, unknown>
    expect(Object.getOwnPropertyDescriptor(raw, 'person')?.get).toBeUndefined()
    expect(typeof Object.getOwnPropertyDescriptor(raw, 'vehicle')?.get).toBe('function')
  })
})
