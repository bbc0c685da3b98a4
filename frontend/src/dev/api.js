// The backend's test-mode routes (absent in real mode): simulated deposit and the test clock.
import { request } from '../lib/api.js'

const enc = encodeURIComponent

export const simulateDeposit = (orderId) =>
  request('POST', `/api/checkout/orders/${enc(orderId)}/simulate-deposit`)

export const getTestClock = () => request('GET', '/api/test/clock')

export const advanceTestClock = (seconds) =>
  request('POST', '/api/test/clock', { body: { advance: seconds } })

/** Calendar months: from Jan 31, one month later is Feb 28 (or 29). */
export const advanceTestClockMonths = (months) =>
  request('POST', '/api/test/clock', { body: { months } })

export const resetTestClock = () => request('POST', '/api/test/clock/reset')
