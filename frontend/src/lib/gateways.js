// The gateways' browser SDKs (served by the fakes, or the real CDNs), loaded from the URLs in
// the backend's config.
import { toMajorNumber } from './format.js'
import { GatewayUnavailable, loadScript } from './scripts.js'
import { loadToss } from './toss.js'

export { loadScript } from './scripts.js'
export { payWithToss, registerCardWithToss } from './toss.js'

let impInitializedWith = null

/**
 * Open a PortOne (iamport) window for request_pay's params; resolves with the SDK's callback
 * answer normalised to {ok, paymentId} or {ok: false, code, message}.
 */
async function openPortOne(vendor, params) {
  await loadScript(vendor.sdk_url)
  const IMP = window.IMP
  if (!IMP) throw new GatewayUnavailable('The PortOne SDK did not define IMP')
  if (impInitializedWith !== vendor.merchant_code) {
    IMP.init(vendor.merchant_code)
    impInitializedWith = vendor.merchant_code
  }
  const rsp = await new Promise((resolve) => IMP.request_pay(params, resolve))
  // Current PG modules answer only imp_uid, merchant_uid, error_code and error_msg (success,
  // imp_success and paid_amount are deprecated): a failure is an error_code, and only the
  // backend's look-up at the gateway says whether money moved.
  if ((rsp.error_code ?? '') !== '' || !rsp.imp_uid) {
    return {
      ok: false,
      code: rsp.error_code || 'PAYMENT_FAILED',
      message: rsp.error_msg || 'The payment did not go through.',
    }
  }
  return { ok: true, paymentId: rsp.imp_uid }
}

const RETURN_PATH = '/checkout/portone/return'
const asked = (orderId) => `portone-amount:${orderId}`

/** The amount the window was asked for, kept for the redirect return (sessionStorage). */
export function askedAmount(orderId) {
  const value = sessionStorage.getItem(asked(orderId))
  return value === null ? null : Number(value)
}

/**
 * Open the PortOne (iamport) payment window for an order (see openPortOne for the answer). On a
 * phone the SDK sends the whole page to the window instead, which comes back by m_redirect_url
 * to /checkout/portone/return (PortOneReturnPage); then the promise never settles.
 */
export function payWithPortOne(vendor, order, amount, buyer) {
  sessionStorage.setItem(asked(order.order_id), String(amount))
  const params = {
    // The order carries the PG for its currency (overseas cards for USD) and our webhook URL.
    pg: order.pg || vendor.pg,
    pay_method: order.method,
    merchant_uid: order.order_id,
    name: order.name,
    amount: toMajorNumber(amount, order.currency),
    currency: order.currency,
    buyer_name: buyer.name,
    buyer_email: buyer.email,
    buyer_tel: buyer.tel,
    m_redirect_url: `${window.location.origin}${RETURN_PATH}`,
  }
  if (order.notice_url) params.notice_url = order.notice_url
  return openPortOne(vendor, params)
}

/**
 * Open PortOne's billing-key window for a subscription's `setup`: customer_uid turns request_pay
 * into card registration, which also pays setup.amount (the first period; 0 for a new card).
 */
export function registerCardWithPortOne(vendor, setup, buyer = {}) {
  const currency = setup.currency || 'KRW'
  const params = {
    pg: setup.pg || vendor.pg,
    pay_method: 'card',
    merchant_uid: setup.merchant_uid,
    customer_uid: setup.customer_uid,
    name: setup.name,
    amount: toMajorNumber(setup.amount ?? 0, currency),
    currency,
  }
  if (buyer.name) params.buyer_name = buyer.name
  if (buyer.email) params.buyer_email = buyer.email
  if (setup.notice_url) params.notice_url = setup.notice_url
  return openPortOne(vendor, params)
}

/** Load a gateway's browser SDK before an order exists, so a gateway that is down shows early. */
export function loadGatewaySdk(vendor, vendorConfig, tossIntegration = 'window') {
  return vendor === 'toss' ? loadToss(vendorConfig, tossIntegration) : loadScript(vendorConfig.sdk_url)
}
