import { useLocation, useParams } from 'react-router-dom'
import { BackToProducts } from '../components/links.jsx'
import { ErrorNotice, StatusLine } from '../components/notices.jsx'
import { DevOnly } from '../dev/DevOnly.jsx'
import { SimulateDeposit } from '../dev/SimulateDeposit.jsx'
import { useLoad } from '../hooks/useLoad.js'
import { usePolling } from '../hooks/usePolling.js'
import { getOrder } from '../lib/api.js'
import { formatMoney, formatTime } from '../lib/format.js'
import { errorText, methodName, statusLabel, vendorName } from '../lib/messages.js'

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
    { interval: POLL_MS, enabled: order?.status === 'awaiting_deposit' },
  )

  // The order's own failure outlives a reload; the router state covers the moment before it is set.
  const failure = order?.failure || location.state?.error

  return (
    <>
      <h1>Order {orderId}</h1>
      {loadError && (
        <ErrorNotice
          text={
            loadError.code === 'ORDER_NOT_FOUND'
              ? 'There is no order with this id.'
              : errorText(loadError)
          }
        />
      )}
      {!order && !loadError && <p role="status">Loading the order…</p>}
      {order && (
        <>
          <StatusLine label="Order status" badge={`badge-${order.status}`}>
            {statusLabel(order.status)}
          </StatusLine>
          {failure && <ErrorNotice text={errorText(failure)} />}
          {order.notice && (
            <p role="note" className="notice">
              {order.notice}
            </p>
          )}
          <OrderDetails order={order} />
          {order.payment?.vbank && <VirtualAccount order={order} onChange={setOrder} />}
          {order.payment?.card && <CardReceipt order={order} />}
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
        <dt>Amount</dt>
        <dd>{formatMoney(order.amount, order.currency)}</dd>
        <dt>Gateway</dt>
        <dd>{vendorName(order.vendor)}</dd>
        <dt>Method</dt>
        <dd>{methodName(order.method)}</dd>
        <dt>Ordered</dt>
        <dd>{formatTime(order.created_at)}</dd>
      </dl>
    </section>
  )
}

function CardReceipt({ order }) {
  const { payment } = order
  return (
    <section aria-labelledby="receipt-heading" className="card">
      <h2 id="receipt-heading">Receipt</h2>
      <dl className="facts">
        <dt>Amount paid</dt>
        <dd>{formatMoney(payment.amount ?? order.amount, order.currency)}</dd>
        {payment.refunded > 0 && (
          <>
            <dt>Refunded</dt>
            <dd>{formatMoney(payment.refunded, order.currency)}</dd>
          </>
        )}
        <dt>Card</dt>
        <dd>
          {payment.card.company} {payment.card.number}
        </dd>
        {payment.paid_at && (
          <>
            <dt>Paid at</dt>
            <dd>{formatTime(payment.paid_at)}</dd>
          </>
        )}
        <dt>Payment id</dt>
        <dd className="mono">{payment.payment_id}</dd>
      </dl>
      {payment.receipt_url && (
        <p>
          <a href={payment.receipt_url} target="_blank" rel="noreferrer">
            Gateway receipt
          </a>
        </p>
      )}
    </section>
  )
}

function VirtualAccount({ order, onChange }) {
  const { vbank, paid_at: paidAt } = order.payment
  const awaiting = order.status === 'awaiting_deposit'

  return (
    <section aria-labelledby="vbank-heading" className="card">
      <h2 id="vbank-heading">Virtual account</h2>
      {awaiting && (
        <p>
          Please transfer {formatMoney(order.amount, order.currency)} to this account. This page
          updates by itself when the deposit arrives.
        </p>
      )}
      <dl className="facts">
        <dt>Bank</dt>
        <dd>{vbank.bank}</dd>
        <dt>Account number</dt>
        <dd className="mono">{vbank.account}</dd>
        <dt>Account holder</dt>
        <dd>{vbank.holder}</dd>
        <dt>Deposit due</dt>
        <dd>{formatTime(vbank.due)}</dd>
        {paidAt && (
          <>
            <dt>Deposited at</dt>
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
  return (
    <section aria-labelledby="refunds-heading" className="card">
      <h2 id="refunds-heading">Refunds</h2>
      <ul className="refunds">
        {order.refunds.map((refund, i) => (
          <li key={i}>
            <strong>{formatMoney(refund.amount, order.currency)}</strong>
            {refund.reason && <span> — {refund.reason}</span>}
            <span className="muted"> · {formatTime(refund.created_at)}</span>
          </li>
        ))}
      </ul>
      <p>
        Refunded {formatMoney(order.refunded, order.currency)} in total;{' '}
        {formatMoney(order.refundable, order.currency)} remains.
      </p>
    </section>
  )
}
