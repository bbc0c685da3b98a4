import { useState } from 'react'
import { Link } from 'react-router-dom'
import { AdminControls } from '../components/AdminControls.jsx'
import { ConfigGate } from '../components/ConfigProvider.jsx'
import { DataTable } from '../components/DataTable.jsx'
import { Outcome } from '../components/notices.jsx'
import { SettlementSection } from '../components/SettlementSection.jsx'
import { useLoad } from '../hooks/useLoad.js'
import { getGatewayView, listOrders, refundOrder } from '../lib/api.js'
import { exponentOf, formatMoney, toDecimalString, toMinor } from '../lib/format.js'
import { errorText, methodName, statusLabel, vendorName } from '../lib/messages.js'
import { orderPath } from '../lib/paths.js'

const ORDER_COLUMNS = [
  'Order',
  'Vendor',
  'Method',
  'Amount',
  'Refunded',
  'Remaining',
  'Status',
  'Actions',
]

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

async function loadOrders() {
  return (await listOrders()).orders
}

function Admin({ config }) {
  const { data: orders, error, loading, reload, setData: setOrders } = useLoad(loadOrders)

  function replaceOrder(updated) {
    setOrders((list) => list.map((o) => (o.order_id === updated.order_id ? updated : o)))
  }

  return (
    <div className="admin">
      <AdminControls config={config} loading={loading} error={error} onRefresh={reload} />
      {loading && !orders && <p role="status">Loading orders…</p>}
      {orders && orders.length === 0 && <p>No orders yet.</p>}
      {orders && orders.length > 0 && (
        <DataTable caption="Every order with its refunds" columns={ORDER_COLUMNS}>
          {orders.map((order) => (
            <OrderRow key={order.order_id} order={order} onChange={replaceOrder} />
          ))}
        </DataTable>
      )}
      <SettlementSection />
    </div>
  )
}

function OrderRow({ order, onChange }) {
  const money = (amount) => formatMoney(amount, order.currency)
  return (
    <tr>
      <th scope="row">
        <Link to={orderPath(order.order_id)} className="mono">
          {order.order_id}
        </Link>
        <div className="muted small">{order.name}</div>
      </th>
      <td>{vendorName(order.vendor)}</td>
      <td>{methodName(order.method)}</td>
      <td className="num">{money(order.amount)}</td>
      <td className="num">{money(order.refunded)}</td>
      <td className="num">{money(order.refundable)}</td>
      <td>
        <span className={`badge badge-${order.status}`}>{statusLabel(order.status)}</span>
        {order.notice && <div className="muted small">{order.notice}</div>}
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
      <Outcome ok={result?.ok} error={result?.error} />
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
      <Outcome error={state.error} />
      {state.data && (
        <pre aria-label={`Gateway view of ${orderId}`}>{JSON.stringify(state.data, null, 2)}</pre>
      )}
    </details>
  )
}
