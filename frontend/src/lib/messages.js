// What the buyer and the owner read for each order status and each failure.
import { formatMoney, formatTime } from './format.js'

export const STATUS_LABELS = {
  pending: 'Pending',
  awaiting_deposit: 'Awaiting deposit',
  paid: 'Paid',
  partially_refunded: 'Partially refunded',
  refunded: 'Refunded',
  rejected: 'Rejected',
  failed: 'Failed',
  expired: 'Expired',
  cancelled: 'Cancelled',
}

export const statusLabel = (status) => STATUS_LABELS[status] || status

const METHOD_NAMES = { card: 'Card', vbank: 'Virtual account' }

export const methodName = (method) => METHOD_NAMES[method] || method

export const UNCONFIRMED_PAYMENT =
  'We could not confirm your payment yet. It may have gone through: open your order before paying again.'
export const WINDOW_CLOSED = 'The payment window was closed before paying.'

const TEXTS = {
  AMOUNT_MISMATCH: 'The amount paid did not match the order; the payment was cancelled.',
  GATEWAY_UNAVAILABLE: 'The payment gateway is unreachable. Please try again in a moment.',
  SERVICE_UNREACHABLE: 'Cannot reach the payment service. Please try again in a moment.',
  BAD_RESPONSE: 'Cannot reach the payment service. Please try again in a moment.',
  UNAUTHORIZED: 'The admin token is missing or wrong.',
  ADMIN_TOKEN_REQUIRED: 'The admin token is missing or wrong.',
  ORDER_EXPIRED: 'The order was not paid in time. Please order again.',
}

// Toss failUrl / SDK codes for a buyer who closed the window; the iamport SDK reports a user
// cancel with a message only (the real one: "사용자가 결제를 취소하셨습니다").
const CLOSED_CODES = new Set(['PAY_PROCESS_CANCELED', 'USER_CANCEL', 'WINDOW_CLOSED'])
const CLOSED_MESSAGE =
  /사용자가 결제를 취소|사용자에 의해 결제가 취소|user cancel|window (was )?closed/i

export function isWindowClosed(code, message) {
  return CLOSED_CODES.has(code) || CLOSED_MESSAGE.test(message || '')
}

/** The text to show for an error or an order's failure ({code, message}). */
export function errorText(error) {
  if (!error) return ''
  const { code, message } = error
  if (TEXTS[code]) return TEXTS[code]
  if (code === 'CHARGE_DECLINED') {
    const reason = message && message !== code ? ` (${message.replace(/\.$/, '')})` : ''
    return `The card was declined${reason}. Please try another card.`
  }
  if (isWindowClosed(code, message)) return WINDOW_CLOSED
  return message || 'Something went wrong. Please try again.'
}

// Subscriptions: the subscriber's and the owner's labels.

export const VENDOR_NAMES = { iamport: 'PortOne', toss: 'Toss Payments' }

export const vendorName = (vendor) => VENDOR_NAMES[vendor] || vendor

const SUBSCRIPTION_LABELS = {
  incomplete: 'Incomplete',
  active: 'Active',
  past_due: 'Past due',
  canceled: 'Canceled',
}

export const subscriptionStatusLabel = (status) => SUBSCRIPTION_LABELS[status] || status

const CHARGE_LABELS = { paid: 'Paid', failed: 'Failed', scheduled: 'Scheduled' }

export const chargeStatusLabel = (status) => CHARGE_LABELS[status] || status

/** The next charge's time and amount; `incomplete`: what to say before a card exists. */
export function nextChargeText(sub, incomplete = '—') {
  if (sub.status === 'canceled') return 'No further charges'
  if (!sub.next_charge_at) return sub.status === 'incomplete' ? incomplete : '—'
  const amount = sub.next_charge_amount ?? sub.plan.amount
  return `${formatTime(sub.next_charge_at)} · ${formatMoney(amount, sub.plan.currency)}`
}

export const CARD_WINDOW_CLOSED = 'The card window was closed before the card was registered.'

/** errorText for the billing-key windows, whose closing registers no card rather than no payment. */
export function cardErrorText(error) {
  if (error && isWindowClosed(error.code, error.message)) return CARD_WINDOW_CLOSED
  return errorText(error)
}

/** What the subscriber reads once a new card is in place. */
export function cardReplacedText(wasPastDue, updated) {
  if (!wasPastDue) return 'Card replaced.'
  if (updated?.status === 'active') return 'Card replaced; the overdue payment went through.'
  return 'Card replaced, but the overdue payment did not go through yet.'
}
