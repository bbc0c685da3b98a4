// PortOne V2 through its official browser SDK (npm @portone/browser-sdk, unchanged), whose loader
// is pointed at the script the backend's config names: the fake's /v2/browser-sdk.js outside
// real mode, PortOne's CDN in real mode.
import * as PortOne from '@portone/browser-sdk/v2'

let sdkUrl = null
const asked = (orderId) => `portone-v2-amount:${orderId}`

/** The amount the window was asked for, kept for the redirect return (sessionStorage). */
export function askedAmountV2(orderId) {
  const value = sessionStorage.getItem(asked(orderId))
  return value === null ? null : Number(value)
}

/** Point the SDK's loader at the config's script (once per URL). */
function pointAtScript(vendor) {
  if (vendor.sdk_url && sdkUrl !== vendor.sdk_url) {
    // The loader's documented switch (setPortOneJsSdkUrl), exported under this name by 0.1.x.
    PortOne.__INTERNAL__setPortOneSdkUrl(vendor.sdk_url)
    sdkUrl = vendor.sdk_url
  }
}

/** The SDK's answer as {ok, paymentId} or {ok: false, code, message}. */
function outcome(response, paymentId) {
  if (!response) return { ok: false, code: 'PAYMENT_FAILED', message: 'The payment did not go through.' }
  if (response.code !== undefined && response.code !== null) {
    return {
      ok: false,
      code: response.pgCode || response.code,
      message: response.pgMessage || response.message || 'The payment did not go through.',
    }
  }
  return { ok: true, paymentId: response.paymentId || paymentId }
}

/**
 * requestPayment for an order: the payment id is the order id (the backend reads it back with
 * GET /payments/{paymentId}); amounts are in minor units already; webhooks go to noticeUrls.
 */
export async function payWithPortOneV2(vendor, order, amount, buyer) {
  pointAtScript(vendor)
  sessionStorage.setItem(asked(order.order_id), String(amount))
  const request = {
    storeId: vendor.store_id,
    channelKey: vendor.channel_key,
    paymentId: order.order_id,
    orderName: order.name,
    totalAmount: amount,
    currency: order.currency,
    payMethod: order.method === 'vbank' ? 'VIRTUAL_ACCOUNT' : 'CARD',
    customer: { fullName: buyer.name, email: buyer.email, phoneNumber: buyer.tel },
    redirectUrl: `${window.location.origin}/checkout/portone-v2/return`,
  }
  if (order.method === 'vbank') request.virtualAccount = { accountExpiry: { validHours: 72 } }
  if (order.notice_url) request.noticeUrls = [order.notice_url]
  return outcome(await PortOne.requestPayment(request), order.order_id)
}

/**
 * requestIssueBillingKey for a subscription's setup (our customer id, no charge): answers
 * {ok, billingKey} or {ok: false, code, message}.
 */
export async function registerCardWithPortOneV2(vendor, setup, buyer = {}) {
  pointAtScript(vendor)
  const request = {
    storeId: setup.store_id || vendor.store_id,
    channelKey: setup.channel_key || vendor.channel_key,
    billingKeyMethod: 'CARD',
    issueId: setup.issue_id,
    issueName: setup.issue_name,
    customer: { customerId: setup.customer_key, fullName: buyer.name, email: buyer.email },
  }
  if (setup.notice_url) request.noticeUrls = [setup.notice_url]
  const response = await PortOne.requestIssueBillingKey(request)
  if (!response || (response.code !== undefined && response.code !== null)) {
    return {
      ok: false,
      code: response?.pgCode || response?.code || 'CARD_NOT_REGISTERED',
      message: response?.pgMessage || response?.message || 'The card was not registered.',
    }
  }
  return { ok: true, billingKey: response.billingKey }
}
