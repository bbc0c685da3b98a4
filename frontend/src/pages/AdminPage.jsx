import { useEffect, useState } from 'react'
import { Link } from 'react-router-dom'
import { getGatewayView, listOrders, refundOrder } from '../api.js'
import { ConfigGate } from '../config.jsx'
import { exponentOf, formatMoney, toDecimalString, toMinor } from '../format.js'
import { errorText, statusLabel } from '../messages.js'
import TokenForm from '../TokenForm.jsx'

const VENDOR_NAMES = { iamport: 'PortOne', toss: 'Toss Payments' }
const METHOD_NAMES = { card: 'Card', vbank: 'Virtual account' }

function newIdempotencyKey() {
  // randomUUID exists only in secure contexts (https or localhost).
  return crypto.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`
}

export default function AdminPage() {
  return (
    <>
      <h1>Orders</h1>
      <ConfigGate>{(config) => <Admin config={config} />}</ConfigGate>
    </>
  )
}

function Admin({ config }) {
  const [orders, setOrders] = useState(null)
  const [error, setError] = useState(null)
  const [loading, setLoading] = useState(true)

  const [attempt, setAttempt] = useState(0)

  useEffect(() => {
    let active = true
    listOrders().then(
      (data) => {
        if (!active) return
        setOrders(data.orders)
        setError(null)
        setLoading(false)
      },
      (err) => {
        if (!active) return
        setError(err)
        setLoading(false)
      },
    )
    return () => {
      active = false
    }
  }, [attempt])

  function refresh() {
    setLoading(true)
    setAttempt((n) => n + 1)
  }

  function replaceOrder(updated) {
    setOrders((list) => list.map((o) => (o.order_id === updated.order_id ? updated : o)))
  }

  return (
    <div className="admin">
      {config.mode !== 'local' && <TokenForm onSaved={refresh} />}
      <p>
        <button type="button" onClick={refresh} disabled={loading}>
          Refresh
        </button>
      </p>
      {error && (
        <div role="alert" className="notice notice-error">
          <p>{errorText(error)}</p>
        </div>
      )}
      {loading && !orders && <p role="status">Loading orders…</p>}
      {orders && orders.length === 0 && <p>No orders yet.</p>}
      {orders && orders.length > 0 && (
        <div className="table-scroll">
          <table>
            <caption className="visually-hidden">Every order with its refunds</caption>
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Vendor</th>
                <th scope="col">Method</th>
                <th scope="col">Amount</th>
                <th scope="col">Refunded</th>
                <th scope="col">Remaining</th>
                <th scope="col">Status</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {orders.map((order) => (
                <OrderRow key={order.order_id} order={order} onChange={replaceOrder} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  )
}

function OrderRow({ order, onChange }) {
  const money = (amount) => formatMoney(amount, order.currency)
  return (
    <tr>
      <th scope="row">
        <Link to={`/orders/${encodeURIComponent(order.order_id)}`} className="mono">
          {order.order_id}
        </Link>
        <div className="muted small">{order.name}</div>
      </th>
      <td>{VENDOR_NAMES[order.vendor] || order.vendor}</td>
      <td>{METHOD_NAMES[order.method] || order.method}</td>
      <td className="num">{money(order.amount)}</td>
      <td className="num">{money(order.refunded)}</td>
      <td className="num">{money(order.refundable)}</td>
      <td>
        <span className={`badge badge-${order.status}`}>{statusLabel(order.status)}</span>
      </td>
      <td className="actions">
        <RefundForm order={order} onChange={onChange} />
        <GatewayView orderId={order.order_id} />
      </td>
    </tr>
  )
}

function RefundForm({ order, onChange }) {
  const [amountText, setAmountText] = useState('')
  const [reason, setReason] = useState('')
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState(null)
  const money = (amount) => formatMoney(amount, order.currency)
  const exponent = exponentOf(order.currency)
  const remaining = toDecimalString(order.refundable, order.currency)

  async function submit(event) {
    event.preventDefault()
    let amount
    if (amountText.trim() !== '') {
      amount = toMinor(amountText, order.currency)
      if (!amount) {
        setResult({
          error: `Enter an amount such as ${remaining}, or leave it empty to refund the rest.`,
        })
        return
      }
    }
    setBusy(true)
    setResult(null)
    try {
      const updated = await refundOrder(
        order.order_id,
        { amount, reason: reason.trim() || 'Refund by the shop owner' },
        newIdempotencyKey(),
      )
      setResult({
        ok: `Refunded ${money(updated.refunded - order.refunded)}. Remaining: ${money(updated.refundable)}.`,
      })
      setAmountText('')
      setReason('')
      onChange(updated)
    } catch (err) {
      const left = err.body?.remaining
      setResult({
        error:
          err.code === 'OVER_REFUND' && left !== undefined
            ? `Refund refused: only ${money(left)} can still be refunded.`
            : errorText(err),
      })
    } finally {
      setBusy(false)
    }
  }

  return (
    <form onSubmit={submit} className="refund-form">
      <label>
        Refund amount
        <input
          type="number"
          inputMode="decimal"
          min="0"
          step={exponent === 0 ? '1' : String(10 ** -exponent)}
          placeholder={remaining}
          value={amountText}
          onChange={(e) => setAmountText(e.target.value)}
          aria-describedby={`refund-hint-${order.order_id}`}
        />
      </label>
      <label>
        Reason
        <input value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
      <button type="submit" disabled={busy || order.refundable <= 0}>
        Refund
      </button>
      <span id={`refund-hint-${order.order_id}`} className="hint muted small">
        Amount in {order.currency}; empty refunds the rest.
      </span>
      {result?.ok && (
        <p role="status" className="ok">
          {result.ok}
        </p>
      )}
      {result?.error && (
        <p role="alert" className="error">
          {result.error}
        </p>
      )}
    </form>
  )
}

function GatewayView({ orderId }) {
  const [state, setState] = useState({ loading: false, data: null, error: null })

  async function toggle(event) {
    if (!event.currentTarget.open) return
    setState({ loading: true, data: null, error: null })
    try {
      setState({ loading: false, data: await getGatewayView(orderId), error: null })
    } catch (err) {
      setState({ loading: false, data: null, error: errorText(err) })
    }
  }

  return (
    <details onToggle={toggle} className="gateway-view">
      <summary>Gateway view</summary>
      {state.loading && <p role="status">Asking the gateway…</p>}
      {state.error && (
        <p role="alert" className="error">
          {state.error}
        </p>
      )}
      {state.data && (
        <pre aria-label={`Gateway view of ${orderId}`}>{JSON.stringify(state.data, null, 2)}</pre>
      )}
    </details>
  )
}
