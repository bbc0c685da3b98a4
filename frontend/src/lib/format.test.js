import { afterEach, describe, expect, test } from 'vitest'
import {
  exponentOf,
  formatMoney,
  setCurrencies,
  toDecimalString,
  toMajorNumber,
  toMinor,
} from './format.js'

afterEach(() => setCurrencies({}))

describe('formatMoney', () => {
  test('won have no decimals and group thousands', () => {
    expect(formatMoney(15000, 'KRW')).toBe('15,000원')
    expect(formatMoney(1234567, 'KRW')).toBe('1,234,567원')
    expect(formatMoney(0, 'KRW')).toBe('0원')
  })

  test('dollars are cents shown with two decimals', () => {
    expect(formatMoney(1250, 'USD')).toBe('$12.50')
    expect(formatMoney(5, 'USD')).toBe('$0.05')
    expect(formatMoney(123456789, 'USD')).toBe('$1,234,567.89')
  })

  test('a negative amount keeps its sign in front', () => {
    expect(formatMoney(-1000, 'KRW')).toBe('-1,000원')
    expect(formatMoney(-1250, 'USD')).toBe('-$12.50')
  })

  test('no amount shows nothing', () => {
    expect(formatMoney(null, 'KRW')).toBe('')
    expect(formatMoney(undefined, 'USD')).toBe('')
  })

  test('another currency takes the exponent the backend announces', () => {
    setCurrencies({ BHD: { exponent: 3 } })
    expect(exponentOf('BHD')).toBe(3)
    expect(formatMoney(1234, 'BHD')).toBe('1.234 BHD')
    expect(exponentOf('USD')).toBe(2)
  })
})

describe('decimal strings', () => {
  test('minor units become decimal strings without float arithmetic', () => {
    expect(toDecimalString(1250, 'USD')).toBe('12.50')
    expect(toDecimalString(7, 'USD')).toBe('0.07')
    expect(toDecimalString(15000, 'KRW')).toBe('15000')
    expect(toMajorNumber(1250, 'USD')).toBe(12.5)
    expect(toMajorNumber(15000, 'KRW')).toBe(15000)
  })

  test('toMinor reads exact decimal amounts, strings or numbers', () => {
    expect(toMinor('12.5', 'USD')).toBe(1250)
    expect(toMinor(12.5, 'USD')).toBe(1250)
    expect(toMinor('19.99', 'USD')).toBe(1999) // 19.99 * 100 is 1998.9999999999998 in floats
    expect(toMinor('12.50', 'USD')).toBe(1250)
    expect(toMinor(' 7 ', 'KRW')).toBe(7)
    expect(toMinor('15000.00', 'KRW')).toBe(15000)
    expect(toMinor('0', 'KRW')).toBe(0)
  })

  test.each([
    ['12.505', 'USD', 'more decimals than cents'],
    ['15000.5', 'KRW', 'a fraction of a won'],
    ['-1', 'USD', 'a negative amount'],
    ['1e3', 'KRW', 'an exponent'],
    ['1,000', 'KRW', 'a thousands separator'],
    ['12.5.0', 'USD', 'two decimal points'],
    ['', 'KRW', 'nothing'],
    ['abc', 'USD', 'letters'],
    ['99999999999999999', 'KRW', 'more than a safe integer'],
  ])('toMinor refuses %j %s (%s)', (value, currency) => {
    expect(toMinor(value, currency)).toBeNull()
  })
})
