import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, test } from 'vitest'
import {
  bankChoices,
  bankName,
  cardCompanyName,
  PORTONE_BANKS,
  PORTONE_CARDS,
  TOSS_BANKS,
  TOSS_CARDS,
} from './codes.js'
import { setLanguage } from './i18n.js'

const fakes = new URL('../../../fakes/', import.meta.url)
const read = (path) => readFileSync(new URL(path, fakes), 'utf8')

afterEach(() => setLanguage('ko'))

describe.each([
  ['PortOne banks', PORTONE_BANKS, /^\d{3}$/],
  ['PortOne cards', PORTONE_CARDS, /^\d{3}$/],
  ['Toss banks', TOSS_BANKS, /^\d{2}$/],
  ['Toss cards', TOSS_CARDS, /^[0-9A-Z]{2}$/],
])('%s', (_, table, shape) => {
  test('every code is of the gateway’s shape, once, with a Korean and an English name', () => {
    const codes = table.map(([code]) => code)
    expect(new Set(codes).size).toBe(codes.length)
    for (const [code, ko, en] of table) {
      expect(code).toMatch(shape)
      expect(ko).toMatch(/\S/)
      expect(en).toMatch(/^[\x20-\x7e]+$/)
    }
  })
})

describe('the codes the fake gateways send have names', () => {
  test('every bank of fake Toss (its bankCode) is in the Toss table', () => {
    const codes = [...read('fake_toss/banks.py').matchAll(/Bank\("(\d{2})"/g)].map((m) => m[1])
    expect(codes.length).toBeGreaterThan(20)
    for (const code of codes) expect(bankName('toss', code)).not.toBe(code)
  })

  test('every card company of fake Toss (its issuerCode) is in the Toss table', () => {
    const block = read('fake_toss/banks.py').split('CARD_COMPANIES')[1]
    const codes = [...block.matchAll(/: "([0-9A-Z]{2})"/g)].map((m) => m[1])
    expect(codes.length).toBeGreaterThan(5)
    for (const code of codes) expect(cardCompanyName('toss', code)).not.toBe(code)
  })

  test('every bank of fake PortOne (vbank_code) and every test card issuer are in the PortOne tables', () => {
    // The fakes' windows share one bank table: WindowBank(name, PortOne V1 code, Toss code, V2 name).
    const banks = read('fake_common/window_ui.py')
    const bankCodes = [...banks.matchAll(/WindowBank\("[^"]+", "(\d{3})"/g)].map((m) => m[1])
    expect(bankCodes.length).toBeGreaterThan(5)
    for (const code of bankCodes) expect(bankName('iamport', code)).not.toBe(code)
    const cards = [...read('fake_common/cards.py').matchAll(/"(\S+카드)",\s*"(\d{3})"/g)]
    expect(cards.length).toBeGreaterThan(5)
    for (const [, name, code] of cards) expect(cardCompanyName('iamport', code)).toBe(name)
  })
})

describe('names in the current language', () => {
  test('Toss codes read as names, Korean first, English on the switch', () => {
    expect(bankName('toss', '20')).toBe('우리은행')
    expect(bankName('toss', '06')).toBe('KB국민은행')
    expect(cardCompanyName('toss', '11')).toBe('KB국민카드')
    setLanguage('en')
    expect(bankName('toss', '20')).toBe('Woori Bank')
    expect(cardCompanyName('toss', '11')).toBe('KB Kookmin Card')
  })

  test('a name the gateway already sent (PortOne’s vbank_name) stays as it is', () => {
    expect(bankName('iamport', 'KB국민은행')).toBe('KB국민은행')
    expect(bankName('toss', '')).toBe('')
    expect(cardCompanyName('toss', null)).toBe('')
  })

  test('the refund picker offers the gateway’s own codes', () => {
    expect(bankChoices('toss')).toContainEqual(['88', '신한은행'])
    expect(bankChoices('iamport')).toContainEqual(['088', '신한은행'])
    expect(bankChoices('unknown')).toEqual([])
  })
})
