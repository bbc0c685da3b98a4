// What the buyer and the owner read for each order status and each failure, in the current
// language (i18n.js). Gateway codes map to the demo's own words; the gateway's text only follows
// in brackets when the demo has no words for the code.
import { formatMoney, formatTime } from './format.js'
import { t } from './i18n.js'

const ORDER_STATUSES = [
  'pending',
  'awaiting_deposit',
  'paid',
  'partially_refunded',
  'refunded',
  'rejected',
  'failed',
  'expired',
  'cancelled',
]

export const ORDER_STATUS_LIST = ORDER_STATUSES

export const statusLabel = (status) =>
  ORDER_STATUSES.includes(status) ? t(`status.${status}`) : status

/** What happened to an order, as a page's heading: "결제가 완료되었습니다". */
export const statusHeadline = (status) =>
  ORDER_STATUSES.includes(status) ? t(`headline.${status}`) : t('order.title')

export const methodName = (method) =>
  method === 'card' || method === 'vbank' ? t(`method.${method}`) : method

// In the order the demo offers them: PortOne V2 first (the default), V1 kept for older shops.
export const VENDORS = ['portone', 'iamport', 'toss']

export const vendorName = (vendor) => (VENDORS.includes(vendor) ? t(`vendor.${vendor}`) : vendor)

export const unconfirmedPayment = () => t('error.unconfirmed')

// Our own codes and the gateways' documented ones the demo has words for (Toss's error codes;
// PortOne V1 reports a PG's own code and text, so its declines are recognised by their text).
const OWN_WORDS = new Set([
  'AMOUNT_MISMATCH',
  'GATEWAY_UNAVAILABLE',
  'SERVICE_UNREACHABLE',
  'UNAUTHORIZED',
  'ORDER_EXPIRED',
  'NOT_REFUNDABLE',
  'REFUND_ACCOUNT_REQUIRED',
  'VALIDATION_ERROR',
  'REJECT_CARD_COMPANY',
  'REJECT_CARD_PAYMENT',
  'EXCEED_MAX_DAILY_PAYMENT_COUNT',
  'INVALID_CARD_NUMBER',
  'INVALID_CARD_EXPIRATION',
  'INVALID_STOPPED_CARD',
  'INVALID_CARD_LOST_OR_STOLEN',
  'INVALID_REJECT_CARD',
  'BELOW_MINIMUM_AMOUNT',
  'DUPLICATED_ORDER_ID',
  'ALREADY_PROCESSED_PAYMENT',
  'PAY_PROCESS_ABORTED',
  'INVALID_REFUND_ACCOUNT_INFO',
  'INVALID_REFUND_ACCOUNT_NUMBER',
  'INVALID_BANK',
  'NOT_CANCELABLE_AMOUNT',
  'NOT_CANCELABLE_PAYMENT',
  'ALREADY_CANCELED_PAYMENT',
  'PROVIDER_ERROR',
])
const SAME_WORDS = {
  BAD_RESPONSE: 'SERVICE_UNREACHABLE',
  ADMIN_TOKEN_REQUIRED: 'UNAUTHORIZED',
  INVALID_CARD_EXPIRATION: 'INVALID_CARD_EXPIRATION',
  EXCEED_MAX_CARD_INSTALLMENT_PLAN: 'REJECT_CARD_PAYMENT',
}

// Toss failUrl / SDK codes for a buyer who closed the window; the iamport SDK reports a user
// cancel with a message only (the real one: "사용자가 결제를 취소하셨습니다").
const CLOSED_CODES = new Set(['PAY_PROCESS_CANCELED', 'USER_CANCEL', 'WINDOW_CLOSED'])
const CLOSED_MESSAGE =
  /사용자가 결제를 취소|사용자에 의해 결제가 취소|user cancel|window (was )?closed/i
// A PG's decline as PortOne V1 passes it on (its codes are the PG's own).
const DECLINE_MESSAGE = /거절|한도|잔액|유효기간|카드번호|declin|insufficient|expired/i

export function isWindowClosed(code, message) {
  return CLOSED_CODES.has(code) || CLOSED_MESSAGE.test(message || '')
}

function withDetail(text, detail) {
  return detail ? t('error.withDetail', { text: text.replace(/\.$/, ''), detail }) : text
}

/** The text to show for an error or an order's failure ({code, message, gateway_code?}). */
export function errorText(error) {
  if (!error) return ''
  const { message } = error
  const code = SAME_WORDS[error.code] || error.code
  const gatewayCode = error.gateway_code ?? error.body?.gateway_code
  const byGateway = code === 'GATEWAY_REFUSED' || code === 'PAYMENT_DECLINED'
  if (byGateway && gatewayCode && OWN_WORDS.has(gatewayCode)) {
    return t(`error.${gatewayCode}`)
  }
  if (OWN_WORDS.has(code)) return t(`error.${code}`)
  if (isWindowClosed(code, message)) return t('error.windowClosed')
  const detail = message && message !== code ? message.replace(/\.$/, '') : ''
  if (code === 'CHARGE_DECLINED' || code === 'PAYMENT_DECLINED' || DECLINE_MESSAGE.test(message || '')) {
    return withDetail(t('error.cardDeclined'), detail)
  }
  if (code === 'GATEWAY_REFUSED') return withDetail(t('error.GATEWAY_REFUSED'), detail)
  return withDetail(t('error.generic'), detail)
}

// Subscriptions: the subscriber's and the owner's labels.

const SUBSCRIPTION_STATUSES = ['incomplete', 'active', 'past_due', 'canceled']

export const subscriptionStatusLabel = (status) =>
  SUBSCRIPTION_STATUSES.includes(status) ? t(`sub.status.${status}`) : status

export const chargeStatusLabel = (status) =>
  ['paid', 'failed', 'scheduled'].includes(status) ? t(`charge.${status}`) : status

/** The next charge's time and amount; `incomplete`: what to say before a card exists. */
export function nextChargeText(sub, incomplete = '—') {
  if (sub.status === 'canceled') return t('sub.noFurther')
  if (!sub.next_charge_at) return sub.status === 'incomplete' ? incomplete : '—'
  const amount = sub.next_charge_amount ?? sub.plan.amount
  return `${formatTime(sub.next_charge_at)} · ${formatMoney(amount, sub.plan.currency)}`
}

/** errorText for the billing-key windows, whose closing registers no card rather than no payment. */
export function cardErrorText(error) {
  if (error && isWindowClosed(error.code, error.message)) return t('error.cardWindowClosed')
  return errorText(error)
}

/** What the subscriber reads once a new card is in place. */
export function cardReplacedText(wasPastDue, updated) {
  if (!wasPastDue) return t('sub.replaced')
  if (updated?.status === 'active') return t('sub.replacedPaid')
  return t('sub.replacedUnpaid')
}
