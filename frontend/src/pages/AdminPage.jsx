import { useState } from 'react'
import { Link } from 'react-router-dom'
import { AdminControls } from '../components/AdminControls.jsx'
import { ConfigGate } from '../components/ConfigProvider.jsx'
import { DataTable } from '../components/DataTable.jsx'
import { Outcome } from '../components/notices.jsx'
import { RefundForm } from '../components/RefundForm.jsx'
import { SettlementSection } from '../components/SettlementSection.jsx'
import { useLoad } from '../hooks/useLoad.js'
import { usePageTitle } from '../hooks/usePageTitle.js'
import { getGatewayView, listOrders } from '../lib/api.js'
import { formatMoney, formatTime } from '../lib/format.js'
import { t } from '../lib/i18n.js'
import {
  errorText,
  methodName,
  ORDER_STATUS_LIST,
  statusLabel,
  vendorName,
} from '../lib/messages.js'
import { orderPath } from '../lib/paths.js'

const PAGE_SIZE = 10
const COLUMNS = [
  'order',
  'buyer',
  'date',
  'vendor',
  'method',
  'amount',
  'refunded',
  'remaining',
  'status',
  'actions',
]

export default function AdminPage() {
  usePageTitle(t('admin.title'))
  return (
    <>
      <h1>{t('admin.title')}</h1>
      <ConfigGate>{(config) => <Admin config={config} />}</ConfigGate>
    </>
  )
}

async function loadOrders() {
  return (await listOrders()).orders
}

/** Whether an order matches the owner's search: order id, product, buyer name or email. */
function matches(order, query) {
  if (!query) return true
  const haystack = [order.order_id, order.name, order.buyer?.name, order.buyer?.email]
  return haystack.some((text) => text && text.toLowerCase().includes(query))
}

function Admin({ config }) {
  const { data: orders, error, loading, reload, setData: setOrders } = useLoad(loadOrders)
  const [status, setStatus] = useState('')
  const [search, setSearch] = useState('')
  const [page, setPage] = useState(1)

  function replaceOrder(updated) {
    setOrders((list) => list.map((o) => (o.order_id === updated.order_id ? updated : o)))
  }

  const query = search.trim().toLowerCase()
  const shown = (orders || []).filter(
    (o) => (!status || o.status === status) && matches(o, query),
  )
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE))
  const current = Math.min(page, pages)
  const rows = shown.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE)

  return (
    <div className="admin">
      <AdminControls config={config} loading={loading} error={error} onRefresh={reload} />
      {loading && !orders && <p role="status">{t('admin.loading')}</p>}
      {orders && orders.length === 0 && <p>{t('admin.none')}</p>}
      {orders && orders.length > 0 && (
        <>
          <div className="row filters">
            <label>
              {t('admin.filterStatus')}
              <select
                value={status}
                onChange={(e) => {
                  setStatus(e.target.value)
                  setPage(1)
                }}
              >
                <option value="">{t('admin.all')}</option>
                {ORDER_STATUS_LIST.map((s) => (
                  <option key={s} value={s}>
                    {statusLabel(s)}
                  </option>
                ))}
              </select>
            </label>
            <label className="search">
              {t('admin.search')}
              <input
                type="search"
                value={search}
                onChange={(e) => {
                  setSearch(e.target.value)
                  setPage(1)
                }}
              />
            </label>
          </div>
          {shown.length === 0 ? (
            <p>{t('admin.noneMatch')}</p>
          ) : (
            <DataTable
              caption={t('admin.caption')}
              columns={COLUMNS.map((c) => t(`admin.col.${c}`))}
              className="orders"
            >
              {rows.map((order) => (
                <OrderRow key={order.order_id} order={order} onChange={replaceOrder} />
              ))}
            </DataTable>
          )}
          <Pagination page={current} pages={pages} count={shown.length} onPage={setPage} />
        </>
      )}
      <SettlementSection />
    </div>
  )
}

function Pagination({ page, pages, count, onPage }) {
  return (
    <nav aria-label={t('admin.pagination')} className="row pagination">
      <button type="button" onClick={() => onPage(page - 1)} disabled={page <= 1}>
        {t('admin.previous')}
      </button>
      <span role="status">{t('admin.page', { page, pages, count })}</span>
      <button type="button" onClick={() => onPage(page + 1)} disabled={page >= pages}>
        {t('admin.next')}
      </button>
    </nav>
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
      <td>
        {order.buyer?.name || '—'}
        {order.buyer?.email && <div className="muted small">{order.buyer.email}</div>}
      </td>
      <td>{formatTime(order.created_at)}</td>
      <td>{vendorName(order.vendor)}</td>
      <td>{methodName(order.method)}</td>
      <td className="num">{money(order.amount)}</td>
      <td className="num">
        {money(order.refunded)}
        {order.refund_pending > 0 && (
          <div className="muted small">
            {t('admin.refundPending', { amount: money(order.refund_pending) })}
          </div>
        )}
      </td>
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
      <summary>{t('gatewayView.summary')}</summary>
      {state.loading && <p role="status">{t('gatewayView.loading')}</p>}
      <Outcome error={state.error} />
      {state.data && (
        <pre aria-label={t('gatewayView.label', { id: orderId })}>
          {JSON.stringify(state.data, null, 2)}
        </pre>
      )}
    </details>
  )
}
