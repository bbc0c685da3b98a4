import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import {
  ApiError,
  getConfig,
  getOrder,
  listOrders,
  refundOrder,
  setAdminToken,
} from './api.js'

/** A fetch that answers `body` (an object as JSON, a string as is) with `status`. */
function answer(body, status = 200) {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  return vi.fn(async () => new Response(text, { status }))
}

/** localStorage as the browser has it, for Node. */
function memoryStorage() {
  const items = new Map()
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
  }
}

beforeEach(() => {
  vi.stubGlobal('localStorage', memoryStorage())
})

afterEach(() => {
  vi.unstubAllGlobals()
})

const sentHeaders = (fetch) => fetch.mock.calls[0][1].headers

describe('answers', () => {
  test('a success answers the JSON body', async () => {
    vi.stubGlobal('fetch', answer({ order_id: 'o1', status: 'paid' }))
    await expect(getOrder('o1')).resolves.toEqual({ order_id: 'o1', status: 'paid' })
  })

  test("the error envelope becomes an ApiError with the envelope's code and message", async () => {
    const body = { code: 'OVER_REFUND', message: 'Only 500 left.', remaining: 500 }
    vi.stubGlobal('fetch', answer(body, 409))
    const error = await refundOrder('o1', { amount: 900, reason: 'x' }, 'key-1').catch((e) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ code: 'OVER_REFUND', message: 'Only 500 left.', status: 409 })
    expect(error.body.remaining).toBe(500)
  })

  test('an envelope without a message reads its code', async () => {
    vi.stubGlobal('fetch', answer({ code: 'ORDER_NOT_FOUND' }, 404))
    await expect(getOrder('nope')).rejects.toMatchObject({
      code: 'ORDER_NOT_FOUND',
      message: 'ORDER_NOT_FOUND',
      status: 404,
    })
  })

  test('JSON that is not the envelope becomes HTTP_<status>', async () => {
    vi.stubGlobal('fetch', answer({ error: 'boom' }, 500))
    await expect(getConfig()).rejects.toMatchObject({ code: 'HTTP_500', status: 500 })
  })

  test('a page that is not JSON (a proxy in front) means the service is unreachable', async () => {
    vi.stubGlobal('fetch', answer('<html>Bad gateway</html>', 502))
    await expect(getConfig()).rejects.toMatchObject({ code: 'SERVICE_UNREACHABLE', status: 502 })
  })

  test('a 200 that is not JSON is a bad response', async () => {
    vi.stubGlobal('fetch', answer('<html>index</html>', 200))
    await expect(getConfig()).rejects.toMatchObject({ code: 'BAD_RESPONSE', status: 200 })
  })

  test('a network failure becomes SERVICE_UNREACHABLE with status 0', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')))
    const error = await getConfig().catch((e) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({
      code: 'SERVICE_UNREACHABLE',
      status: 0,
      message: 'Cannot reach the payment service.',
    })
  })
})

describe('requests', () => {
  test("the owner's calls send the saved admin token as a bearer token", async () => {
    const fetch = answer({ orders: [] })
    vi.stubGlobal('fetch', fetch)
    setAdminToken('s3cret')
    await listOrders()
    expect(sentHeaders(fetch).Authorization).toBe('Bearer s3cret')
  })

  test("the buyer's calls never send the admin token", async () => {
    const fetch = answer({ mode: 'local' })
    vi.stubGlobal('fetch', fetch)
    setAdminToken('s3cret')
    await getConfig()
    expect(sentHeaders(fetch)).not.toHaveProperty('Authorization')
  })

  test('a cleared token sends no Authorization header', async () => {
    const fetch = answer({ orders: [] })
    vi.stubGlobal('fetch', fetch)
    setAdminToken('s3cret')
    setAdminToken('')
    await listOrders()
    expect(sentHeaders(fetch)).not.toHaveProperty('Authorization')
  })

  test('a refund posts JSON with its Idempotency-Key to the quoted order id', async () => {
    const fetch = answer({ order_id: 'a/b' })
    vi.stubGlobal('fetch', fetch)
    await refundOrder('a/b', { amount: 500, reason: 'damaged' }, 'key-1')
    const [path, init] = fetch.mock.calls[0]
    expect(path).toBe('/api/checkout/orders/a%2Fb/refund')
    expect(init.method).toBe('POST')
    expect(init.headers).toMatchObject({
      'Content-Type': 'application/json',
      'Idempotency-Key': 'key-1',
    })
    expect(JSON.parse(init.body)).toEqual({ amount: 500, reason: 'damaged' })
  })
})
