// What a gateway's failure return (Toss failUrl, PortOne's m_redirect_url with an error_code)
// shows: the order first, since a buyer who pressed Back into a paid order's window comes back
// here although nothing failed; only an order that is still unpaid records the failure.
import { useEffect, useState } from 'react'
import { getOrder, failOrder } from '../lib/api.js'
import { t } from '../lib/i18n.js'
import { errorText } from '../lib/messages.js'
import { usePageTitle } from '../hooks/usePageTitle.js'
import { BackToProducts } from './links.jsx'
import { ErrorNotice } from './notices.jsx'

const SETTLED = ['paid', 'partially_refunded', 'refunded']

// Look up and report each failure once, even when React's StrictMode runs the effect twice.
const lookups = new Map()

function lookUp(orderId, failure) {
  const key = `${orderId} ${failure.code}`
  if (!lookups.has(key)) {
    lookups.set(
      key,
      getOrder(orderId)
        .catch(() => null)
        .then(async (order) => {
          if (order && (SETTLED.includes(order.status) || order.status === 'awaiting_deposit')) {
            return order.status
          }
          // Only a record of what the buyer saw; the order stays pending if this does not arrive.
          await failOrder(orderId, failure).catch(() => {})
          return 'failed'
        }),
    )
  }
  return lookups.get(key)
}

export function PaymentFailure({ orderId, code, message }) {
  const [outcome, setOutcome] = useState(orderId ? null : 'failed')

  useEffect(() => {
    if (!orderId) return
    let active = true
    lookUp(orderId, { code, message }).then((status) => active && setOutcome(status))
    return () => {
      active = false
    }
  }, [orderId, code, message])

  const title =
    outcome === null
      ? t('fail.checking')
      : SETTLED.includes(outcome)
        ? t('fail.alreadyPaidTitle')
        : outcome === 'awaiting_deposit'
          ? t('fail.waitingTitle')
          : t('fail.title')
  usePageTitle(title)

  return (
    <>
      <h1>{title}</h1>
      {outcome === null && <p role="status">{t('fail.checking')}</p>}
      {SETTLED.includes(outcome) && (
        <p role="status" className="notice notice-ok">
          {t('fail.alreadyPaid')}
        </p>
      )}
      {outcome === 'awaiting_deposit' && (
        <p role="status" className="notice notice-warning">
          {t('fail.waiting')}
        </p>
      )}
      {outcome === 'failed' && <ErrorNotice text={errorText({ code, message })} />}
      <BackToProducts orderId={orderId} />
    </>
  )
}
