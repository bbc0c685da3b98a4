// Display formats. Amounts are integers in the currency's minor unit (KRW: won, USD: cents);
// conversions to and from decimal strings work on digits, never by float arithmetic. Times show
// in Korea's time zone, in the current language's locale (ko-KR: 2026. 11. 29. 오후 3:04).
import { locale, t } from './i18n.js'

const TIME_ZONE = 'Asia/Seoul'

const DEFAULT_EXPONENTS = { KRW: 0, USD: 2 }
let exponents = { ...DEFAULT_EXPONENTS }

/** Use the exponents the backend announces in /api/checkout/config. */
export function setCurrencies(currencies) {
  exponents = { ...DEFAULT_EXPONENTS }
  for (const [code, info] of Object.entries(currencies || {})) exponents[code] = info.exponent
}

export function exponentOf(currency) {
  return exponents[currency] ?? 0
}

/** 1250, "USD" -> "12.50"; 15000, "KRW" -> "15000". */
export function toDecimalString(minor, currency) {
  const exp = exponentOf(currency)
  const sign = minor < 0 ? '-' : ''
  const digits = String(Math.abs(minor))
  if (exp === 0) return sign + digits
  const padded = digits.padStart(exp + 1, '0')
  return `${sign}${padded.slice(0, -exp)}.${padded.slice(-exp)}`
}

/** The amount as the gateways' browser SDKs want it: KRW integer, USD decimal dollars (12.5). */
export function toMajorNumber(minor, currency) {
  return Number(toDecimalString(minor, currency))
}

/**
 * "12.5" or 12.5 (dollars) -> 1250; null for anything that is not an exact, non-negative amount
 * in the currency (too many decimals, signs, exponents, separators, beyond a safe integer).
 */
export function toMinor(value, currency) {
  const exp = exponentOf(currency)
  const match = /^\s*(\d+)(?:\.(\d*))?\s*$/.exec(String(value))
  if (!match) return null
  const fraction = (match[2] || '').replace(/0+$/, '')
  if (fraction.length > exp) return null
  const minor = Number(match[1] + fraction.padEnd(exp, '0'))
  return Number.isSafeInteger(minor) ? minor : null
}

function groupThousands(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** 15000 KRW -> "15,000원"; 1250 USD -> "$12.50"; others -> "12.50 EUR". */
export function formatMoney(minor, currency) {
  if (minor === null || minor === undefined) return ''
  const [whole, fraction] = toDecimalString(Math.abs(minor), currency).split('.')
  const number = groupThousands(whole) + (fraction ? `.${fraction}` : '')
  const sign = minor < 0 ? '-' : ''
  if (currency === 'KRW') return `${sign}${number}원`
  if (currency === 'USD') return `${sign}$${number}`
  return `${sign}${number} ${currency}`
}

export function formatTime(iso) {
  if (!iso) return ''
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return date.toLocaleString(locale(), {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: TIME_ZONE,
  })
}

const INTERVALS = ['month', 'year', 'week', 'day']

/** A plan's interval as the price reads it: "month" -> "매월" ("per month"). */
export const perInterval = (interval) =>
  INTERVALS.includes(interval) ? t(`interval.${interval}`) : t('interval.other', { interval })

/** The date alone: "2026. 7. 22." ("Jul 22, 2026"). */
export function formatDate(iso) {
  if (!iso) return ''
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return date.toLocaleDateString(locale(), { dateStyle: 'medium', timeZone: TIME_ZONE })
}
