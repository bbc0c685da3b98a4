// Toss Payments in the browser: the v2 SDK through the official npm package (payment window,
// payment widget, billing auth), and the v1 script for shops that still use it. Both scripts
// define window.TossPayments, so switching between them clears the other first.
import { ANONYMOUS, clearTossPayments, loadTossPayments } from '@tosspayments/tosspayments-sdk'
import { toMajorNumber } from './format.js'
import { forgetScript, GatewayUnavailable, loadScript } from './scripts.js'

/** How the shop talks to Toss: the v2 payment window, the v2 payment widget, or the v1 window. */
export const TOSS_INTEGRATIONS = ['window', 'widget', 'v1']

let loaded = null // which script defines window.TossPayments now: 'v1' or 'v2'

function switchTo(version, vendor) {
  if (loaded === version) return
  clearTossPayments() // the v2 scripts and window.TossPayments
  forgetScript(vendor.sdk_url)
  loaded = version
}

/** The v2 SDK for a client key (the fake's script outside real mode: vendor.sdk_v2_url). */
export async function tossV2(vendor, clientKey) {
  switchTo('v2', vendor)
  try {
    return await loadTossPayments(clientKey, { src: vendor.sdk_v2_url })
  } catch (err) {
    throw new GatewayUnavailable(err.message)
  }
}

async function tossV1(vendor) {
  switchTo('v1', vendor)
  await loadScript(vendor.sdk_url)
  if (typeof window.TossPayments !== 'function') {
    throw new GatewayUnavailable('The Toss SDK did not define TossPayments')
  }
  return window.TossPayments(vendor.client_key)
}

/** Load the integration's script before an order exists (fails when the gateway is down). */
export async function loadToss(vendor, integration) {
  if (integration === 'v1') await tossV1(vendor)
  else await tossV2(vendor, integration === 'widget' ? vendor.widget_client_key : vendor.client_key)
}

function returnUrls() {
  const origin = window.location.origin
  return { successUrl: `${origin}/checkout/toss/success`, failUrl: `${origin}/checkout/toss/fail` }
}

function customer(buyer) {
  const phone = (buyer.tel || '').replace(/\D/g, '')
  const fields = { customerName: buyer.name, customerEmail: buyer.email }
  if (phone) fields.customerMobilePhone = phone
  return fields
}

/**
 * Open the Toss payment window (v2, or the v1 script). On success or failure the window
 * redirects the browser to /checkout/toss/success or /fail; a rejected promise carries
 * {code, message}.
 */
export async function payWithToss(vendor, order, amount, buyer, integration = 'window') {
  if (integration === 'v1') {
    const toss = await tossV1(vendor)
    await toss.requestPayment(order.method === 'vbank' ? '가상계좌' : '카드', {
      amount: toMajorNumber(amount, order.currency),
      orderId: order.order_id,
      orderName: order.name,
      ...customer(buyer),
      currency: order.currency,
      ...returnUrls(),
    })
    return
  }
  const toss = await tossV2(vendor, vendor.client_key)
  await toss.payment({ customerKey: ANONYMOUS }).requestPayment({
    method: order.method === 'vbank' ? 'VIRTUAL_ACCOUNT' : 'CARD',
    amount: { currency: order.currency, value: toMajorNumber(amount, order.currency) },
    orderId: order.order_id,
    orderName: order.name,
    ...customer(buyer),
    ...returnUrls(),
  })
}

/** Our order method for the widget's chosen payment method (easy pays are paid like cards). */
export function widgetMethod(selected) {
  return selected?.code === 'VIRTUAL_ACCOUNT' ? 'vbank' : 'card'
}

/** Pay an order through a rendered payment widget: its amount, then its requestPayment. */
export async function payWithTossWidget(widgets, order, amount, buyer) {
  await widgets.setAmount({ currency: order.currency, value: toMajorNumber(amount, order.currency) })
  await widgets.requestPayment({
    orderId: order.order_id,
    orderName: order.name,
    ...customer(buyer),
    ...returnUrls(),
  })
}

/**
 * Open Toss's billing-auth window (v2 payment().requestBillingAuth) for a subscription's `setup`.
 * The window sends the browser to /subscriptions/toss/success (customerKey, authKey) or /fail
 * (code, message), with the subscription id and `action` ("card" when replacing the card) added
 * to the query.
 */
export async function registerCardWithToss(vendor, setup, subscriptionId, { buyer = {}, action } = {}) {
  const toss = await tossV2(vendor, setup.client_key || vendor.client_key)
  const query = new URLSearchParams({ subscription_id: subscriptionId })
  if (action) query.set('action', action)
  const origin = window.location.origin
  const params = {
    method: 'CARD',
    successUrl: `${origin}${setup.success_url_path || '/subscriptions/toss/success'}?${query}`,
    failUrl: `${origin}${setup.fail_url_path || '/subscriptions/toss/fail'}?${query}`,
  }
  if (buyer.name) params.customerName = buyer.name
  if (buyer.email) params.customerEmail = buyer.email
  await toss.payment({ customerKey: setup.customer_key }).requestBillingAuth(params)
}
