// Every call to the backend (contract: notes/CHECKOUT_API.md) but the test-mode routes
// (src/dev/api.js). Errors become ApiError with
// .code, .status and .body taken from the backend's {"code", "message", ...} envelope.

const TOKEN_KEY = 'adminToken'

export class ApiError extends Error {
  constructor(message, { code, status, body = null }) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.status = status
    this.body = body
  }
}

const UNREACHABLE = 'Cannot reach the payment service.'

/** Send one request; answers the parsed JSON body, throws ApiError for anything else. */
export async function request(method, path, { body, headers = {}, admin = false } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers } }
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  const token = admin ? getAdminToken() : ''
  if (token) init.headers.Authorization = `Bearer ${token}`

  let response
  try {
    response = await fetch(path, init)
  } catch {
    throw new ApiError(UNREACHABLE, { code: 'SERVICE_UNREACHABLE', status: 0 })
  }
  const text = await response.text()
  let data
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    // Not JSON: a proxy error page or a static server without the backend behind it.
    const code = response.ok ? 'BAD_RESPONSE' : 'SERVICE_UNREACHABLE'
    throw new ApiError(UNREACHABLE, { code, status: response.status })
  }
  if (response.ok) return data
  if (data && typeof data.code === 'string') {
    throw new ApiError(data.message || data.code, {
      code: data.code,
      status: response.status,
      body: data,
    })
  }
  throw new ApiError(`The payment service answered HTTP ${response.status}.`, {
    code: `HTTP_${response.status}`,
    status: response.status,
    body: data,
  })
}

const enc = encodeURIComponent

export function getAdminToken() {
  return localStorage.getItem(TOKEN_KEY) || ''
}

export function setAdminToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token)
  else localStorage.removeItem(TOKEN_KEY)
}

export const getConfig = () => request('GET', '/api/checkout/config')

// The backend keeps the buyer's name and email; the phone number goes to the gateway only.
const buyerRecord = (buyer) => buyer && { name: buyer.name, email: buyer.email }

export const createOrder = ({ vendor, method, items, buyer }) =>
  request('POST', '/api/checkout/orders', {
    body: { vendor, method, items, buyer: buyerRecord(buyer) },
  })

export const completePayment = ({ orderId, vendor, paymentId, amount }) =>
  request('POST', '/api/checkout/complete', {
    body: { order_id: orderId, vendor, payment_id: paymentId, amount },
  })

export const failOrder = (orderId, { code, message }) =>
  request('POST', `/api/checkout/orders/${enc(orderId)}/fail`, { body: { code, message } })

export const getOrder = (orderId) => request('GET', `/api/checkout/orders/${enc(orderId)}`)

/** A refund; `refundAccount` {bank, account, holder} for a deposited virtual account. */
export const refundOrder = (orderId, { amount, reason, refundAccount }, idempotencyKey) =>
  request('POST', `/api/checkout/orders/${enc(orderId)}/refund`, {
    body: {
      reason,
      ...(amount === undefined ? {} : { amount }),
      ...(refundAccount ? { refund_account: refundAccount } : {}),
    },
    headers: { 'Idempotency-Key': idempotencyKey },
    admin: true,
  })

export const listOrders = () => request('GET', '/api/admin/orders?limit=100', { admin: true })

export const getGatewayView = (orderId) =>
  request('GET', `/api/admin/orders/${enc(orderId)}/gateway`, { admin: true })

// Subscriptions (contract: notes/SUBSCRIPTIONS_API.md). `proof` is what the vendor's billing
// window returned: {imp_uid} (PortOne) or {auth_key, customer_key} (Toss).

export const listPlans = () => request('GET', '/api/subscriptions/plans')

export const createSubscription = ({ planId, vendor, buyer }) =>
  request('POST', '/api/subscriptions', {
    body: { plan_id: planId, vendor, buyer: buyerRecord(buyer) },
  })

export const activateSubscription = (subscriptionId, proof) =>
  request('POST', `/api/subscriptions/${enc(subscriptionId)}/activate`, { body: proof })

export const getSubscription = (subscriptionId) =>
  request('GET', `/api/subscriptions/${enc(subscriptionId)}`)

export const cancelSubscription = (subscriptionId, reason) =>
  request('POST', `/api/subscriptions/${enc(subscriptionId)}/cancel`, {
    body: reason ? { reason } : {},
  })

export const startCardReplacement = (subscriptionId) =>
  request('POST', `/api/subscriptions/${enc(subscriptionId)}/card`, { body: {} })

export const confirmCardReplacement = (subscriptionId, proof) =>
  request('POST', `/api/subscriptions/${enc(subscriptionId)}/card/confirm`, { body: proof })

export const listSubscriptions = () =>
  request('GET', '/api/admin/subscriptions', { admin: true })

/** The owner's monthly picture of the last `months` calendar months (Korean time). */
export const getSubscriptionDashboard = (months = 6) =>
  request('GET', `/api/admin/subscriptions/dashboard?months=${Number(months)}`, { admin: true })

/** The owner's daily settlement of a day (YYYY-MM-DD, Korean time). */
export const getSettlement = (day) =>
  request('GET', `/api/admin/settlement?date=${encodeURIComponent(day)}`, { admin: true })
