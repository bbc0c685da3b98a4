import { useLocation, useParams } from 'react-router-dom'
import { CopyButton } from '../components/CopyButton.jsx'
import { BackToProducts } from '../components/links.jsx'
import { ErrorNotice, StatusLine } from '../components/notices.jsx'
import { DevOnly } from '../dev/DevOnly.jsx'
import { SimulateDeposit } from '../dev/SimulateDeposit.jsx'
import { useLoad } from '../hooks/useLoad.js'
import { usePageTitle } from '../hooks/usePageTitle.js'
import { usePolling } from '../hooks/usePolling.js'
import { getOrder } from '../lib/api.js'
import { bankName, cardCompanyName, easyPayName } from '../lib/codes.js'
import { formatMoney, formatTime } from '../lib/format.js'
import { t } from '../lib/i18n.js'
import { errorText, methodName, statusHeadline, statusLabel, vendorName } from '../lib/messages.js'

const POLL_MS = 1000

export default function OrderPage() {
  const { orderId } = useParams()
  return <Order key={orderId} orderId={orderId} />
}

function Order({ orderId }) {
  const location = useLocation()
  const { data: order, error: loadError, setData: setOrder } = useLoad(() => getOrder(orderId))

  // A virtual account turns paid when the deposit arrives (webhook at the backend): poll for it.
  usePolling(
    async (signal) => {
      const polled = await getOrder(orderId)
      if (!signal.aborted) setOrder(polled)
    },
    // A deposit awaited, or a refund on its way to the buyer: the gateway settles either.
    {
      interval: POLL_MS,
      enabled: order?.status === 'awaiting_deposit' || order?.refund_pending > 0,
    },
  )

  // The order's own failure outlives a reload; the router state covers the moment before it is set.
  const failure = order?.failure || location.state?.error
  // The page leads with what happened; the order number follows.
  const headline = order ? statusHeadline(order.status) : t('order.title')
  usePageTitle(headline)

  return (
    <>
      <h1>{headline}</h1>
      <p className="muted order-number">{t('order.number', { id: orderId })}</p>
      {loadError && (
        <ErrorNotice
          text={loadError.code === 'ORDER_NOT_FOUND' ? t('order.notFound') : errorText(loadError)}
        />
      )}
      {!order && !loadError && <p role="status">{t('order.loading')}</p>}
      {order && (
        <>
          <StatusLine label={t('order.statusLabel')} badge={`badge-${order.status}`}>
            {statusLabel(order.status)}
          </StatusLine>
          {failure && <ErrorNotice text={errorText(failure)} />}
          {order.notice && (
            <p role="note" className="notice">
              {order.notice}
            </p>
          )}
          {order.payment?.vbank && <VirtualAccount order={order} onChange={setOrder} />}
          {(order.payment?.card || order.payment?.easy_pay) && <Receipt order={order} />}
          <OrderDetails order={order} />
          <Refunds order={order} />
        </>
      )}
      <BackToProducts />
    </>
  )
}

function OrderDetails({ order }) {
  return (
    <section aria-labelledby="order-heading" className="card">
      <h2 id="order-heading">{order.name}</h2>
      <ul className="items">
        {order.items.map((item) => (
          <li key={item.product_id}>
            <span>
              {item.name} × {item.quantity}
            </span>
            <span>{formatMoney(item.unit_price * item.quantity, order.currency)}</span>
          </li>
        ))}
      </ul>
      <dl className="facts">
        <dt>{t('order.amount')}</dt>
        <dd>{formatMoney(order.amount, order.currency)}</dd>
        <dt>{t('order.gateway')}</dt>
        <dd>{vendorName(order.vendor)}</dd>
        <dt>{t('order.method')}</dt>
        <dd>{methodName(order.method)}</dd>
        {order.buyer?.name && (
          <>
            <dt>{t('order.buyer')}</dt>
            <dd>{order.buyer.name}</dd>
          </>
        )}
        <dt>{t('order.ordered')}</dt>
        <dd>{formatTime(order.created_at)}</dd>
      </dl>
    </section>
  )
}

function Receipt({ order }) {
  const { payment } = order
  return (
    <section aria-labelledby="receipt-heading" className="card">
      <h2 id="receipt-heading">{t('order.receipt')}</h2>
      <dl className="facts">
        <dt>{t('order.amountPaid')}</dt>
        <dd>{formatMoney(payment.amount ?? order.amount, order.currency)}</dd>
        {payment.refunded > 0 && (
          <>
            <dt>{t('order.refunded')}</dt>
            <dd>{formatMoney(payment.refunded, order.currency)}</dd>
          </>
        )}
        {payment.easy_pay && (
          <>
            <dt>{t('order.easyPay')}</dt>
            <dd data-testid="easy-pay">{easyPayName(payment.easy_pay.provider)}</dd>
          </>
        )}
        {payment.card && (
          <>
            <dt>{t('order.card')}</dt>
            <dd>
              {cardCompanyName(order.vendor, payment.card.company)} {payment.card.number}
            </dd>
          </>
        )}
        {payment.paid_at && (
          <>
            <dt>{t('order.paidAt')}</dt>
            <dd>{formatTime(payment.paid_at)}</dd>
          </>
        )}
        <dt>{t('order.paymentId')}</dt>
        <dd className="mono">{payment.payment_id}</dd>
      </dl>
      {payment.receipt_url && (
        <p>
          <a href={payment.receipt_url} target="_blank" rel="noreferrer">
            {t('order.gatewayReceipt')}
          </a>
        </p>
      )}
    </section>
  )
}

function VirtualAccount({ order, onChange }) {
  const { vbank, paid_at: paidAt } = order.payment
  const awaiting = order.status === 'awaiting_deposit'
  // PortOne names the account's holder (the shop); Toss names the buyer who deposits.
  const holderLabel = order.vendor === 'toss' ? t('order.depositor') : t('order.accountHolder')

  return (
    <section aria-labelledby="vbank-heading" className="card">
      <h2 id="vbank-heading">{t('order.vbank')}</h2>
      {awaiting && (
        <p>{t('order.transfer', { amount: formatMoney(order.amount, order.currency) })}</p>
      )}
      <dl className="facts">
        <dt>{t('order.bank')}</dt>
        <dd>{bankName(order.vendor, vbank.bank)}</dd>
        <dt>{t('order.accountNumber')}</dt>
        <dd>
          <span className="mono">{vbank.account}</span>{' '}
          <CopyButton value={vbank.account} name={t('order.accountNumber')} />
        </dd>
        <dt>{holderLabel}</dt>
        <dd>{vbank.holder}</dd>
        <dt>{t('order.due')}</dt>
        <dd>{formatTime(vbank.due)}</dd>
        {paidAt && (
          <>
            <dt>{t('order.depositedAt')}</dt>
            <dd>{formatTime(paidAt)}</dd>
          </>
        )}
      </dl>
      {awaiting && (
        <DevOnly>
          <SimulateDeposit orderId={order.order_id} onDeposited={onChange} />
        </DevOnly>
      )}
    </section>
  )
}

function Refunds({ order }) {
  if (!order.refunds?.length) return null
  const money = (amount) => formatMoney(amount, order.currency)
  return (
    <section aria-labelledby="refunds-heading" className="card">
      <h2 id="refunds-heading">{t('order.refunds')}</h2>
      <ul className="refunds">
        {order.refunds.map((refund, i) => (
          <li key={i}>
            <strong>{money(refund.amount)}</strong>
            {refund.reason && <span> — {refund.reason}</span>}
            <span className="muted"> · {formatTime(refund.created_at)}</span>
            <RefundState refund={refund} />
          </li>
        ))}
      </ul>
      <p>{t('order.refundsTotal', { total: money(order.refunded), left: money(order.refundable) })}</p>
      {order.refund_pending > 0 && (
        <p role="note" className="notice">
          {t('order.refundPendingTotal', { amount: money(order.refund_pending) })}
        </p>
      )}
    </section>
  )
}

// A refund paid out later (a virtual account's bank transfer) is pending until the gateway says
// it went through; a failed one is refundable again.
function RefundState({ refund }) {
  if (refund.status === 'pending') {
    return (
      <span className="badge badge-pending" data-testid="refund-state">
        {refund.settles_at
          ? t('order.refundPendingUntil', { when: formatTime(refund.settles_at) })
          : t('order.refundPending')}
      </span>
    )
  }
  if (refund.status === 'failed') {
    return (
      <span className="badge badge-failed" data-testid="refund-state">
        {t('order.refundFailed')}
      </span>
    )
  }
  return null
}
