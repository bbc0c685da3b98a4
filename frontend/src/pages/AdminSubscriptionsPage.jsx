import { useEffect, useRef, useState } from 'react'
import { Link } from 'react-router-dom'
import { AdminControls } from '../components/AdminControls.jsx'
import { ConfigGate } from '../components/ConfigProvider.jsx'
import { DataTable, TableHead } from '../components/DataTable.jsx'
import { useLoad } from '../hooks/useLoad.js'
import { getSubscriptionDashboard, listSubscriptions } from '../lib/api.js'
import { formatMoney, toMajorNumber } from '../lib/format.js'
import { nextChargeText, subscriptionStatusLabel, vendorName } from '../lib/messages.js'
import { subscriptionPath } from '../lib/paths.js'

export default function AdminSubscriptionsPage() {
  return (
    <>
      <h1>Subscriptions</h1>
      <ConfigGate>{(config) => <Dashboard config={config} />}</ConfigGate>
    </>
  )
}

async function loadDashboard() {
  const [dashboard, list] = await Promise.all([getSubscriptionDashboard(), listSubscriptions()])
  return { dashboard, subscriptions: list.subscriptions || [] }
}

function Dashboard({ config }) {
  const { data, error, loading, reload } = useLoad(loadDashboard)

  return (
    <div className="admin">
      <AdminControls config={config} loading={loading} error={error} onRefresh={reload} />
      {loading && !data && <p role="status">Loading subscriptions…</p>}
      {data && (
        <>
          <Figures dashboard={data.dashboard} />
          <MrrHistory months={data.dashboard.months || []} currency={data.dashboard.currency} />
          <SubscriptionTable subscriptions={data.subscriptions} />
        </>
      )}
    </div>
  )
}

function Figures({ dashboard: d }) {
  const figures = [
    ['Active subscribers', d.active],
    ['New this month', d.new_this_month],
    ['Canceled this month', d.canceled_this_month],
    ['Monthly recurring revenue', formatMoney(d.mrr, d.currency)],
    ['Failed charges', d.failed_charges_this_month],
    ['Past due', d.past_due],
  ]
  return (
    <section aria-labelledby="figures-heading">
      <h2 id="figures-heading">This month</h2>
      <dl className="figures">
        {figures.map(([label, value]) => (
          <div key={label} className="card figure">
            <dt>{label}</dt>
            <dd>{value ?? '—'}</dd>
          </div>
        ))}
      </dl>
      <p className="muted small">
        New, canceled and failed charges count the current calendar month; monthly recurring
        revenue sums the plans of the subscriptions that renew.
      </p>
    </section>
  )
}

/** "2026-07" -> {short: "Jul", year: "2026", long: "Jul 2026"}. */
function monthLabel(month) {
  const [year, mon] = month.split('-').map(Number)
  if (!year || !mon) return { short: month, year: '', long: month }
  const date = new Date(Date.UTC(year, mon - 1, 1))
  const short = date.toLocaleString('en', { month: 'short', timeZone: 'UTC' })
  return { short, year: String(year), long: `${short} ${year}` }
}

/** The smallest 1, 2, 2.5 or 5 times a power of ten that is at least value (1 for 0). */
function niceCeiling(value) {
  if (value <= 0) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power
  return 10 * power
}

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 })

/** The width of the element, following resizes (for drawing the chart in real pixels). */
function useWidth(fallback) {
  const ref = useRef(null)
  const [width, setWidth] = useState(fallback)
  useEffect(() => {
    const element = ref.current
    if (!element) return
    setWidth(element.clientWidth || fallback)
    if (typeof ResizeObserver !== 'function') return
    const observer = new ResizeObserver(() => setWidth(element.clientWidth || fallback))
    observer.observe(element)
    return () => observer.disconnect()
  }, [fallback])
  return [ref, width]
}

const MONTH_COLUMNS = [
  'Month',
  'MRR',
  'New subscribers',
  'Cancellations',
  'Charged',
  'Declined charges',
]

function MrrHistory({ months, currency }) {
  const money = (amount) => formatMoney(amount, currency)
  return (
    <section aria-labelledby="mrr-heading" className="card">
      <h2 id="mrr-heading">Recurring revenue by month</h2>
      {months.length === 0 ? (
        <p className="muted">No months to show yet.</p>
      ) : (
        <>
          <MrrChart months={months} currency={currency} />
          {/* A table never shrinks below its content: hide the wrapper, not the table. */}
          <div className="visually-hidden">
            <table>
              <caption>Recurring revenue (MRR) and activity by month</caption>
              <TableHead columns={MONTH_COLUMNS} />
              <tbody>
                {months.map((m) => (
                  <tr key={m.month}>
                    <th scope="row">{monthLabel(m.month).long}</th>
                    <td>{money(m.mrr)}</td>
                    <td>{m.new}</td>
                    <td>{m.canceled}</td>
                    <td>{money(m.revenue)}</td>
                    <td>{m.failed}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  )
}

const CHART_HEIGHT = 220
const PAD = { top: 24, right: 8, bottom: 40, left: 48 }

function MrrChart({ months, currency }) {
  const [ref, width] = useWidth(600)
  const money = (amount) => formatMoney(amount, currency)
  const values = months.map((m) => m.mrr || 0)
  const top = niceCeiling(Math.max(...values))
  const plotWidth = Math.max(width - PAD.left - PAD.right, 60)
  const plotHeight = CHART_HEIGHT - PAD.top - PAD.bottom
  const slot = plotWidth / months.length
  const barWidth = Math.min(slot * 0.6, 64)
  const y = (value) => PAD.top + plotHeight - (value / top) * plotHeight
  const ticks = [0, top / 2, top]
  const showValues = slot >= 72

  const first = monthLabel(months[0].month).long
  const last = monthLabel(months[months.length - 1].month).long
  const summary =
    `Monthly recurring revenue, ${months.length} months from ${first} to ${last}: ` +
    months.map((m) => `${monthLabel(m.month).long} ${money(m.mrr || 0)}`).join(', ') +
    '.'

  return (
    <div ref={ref} className="chart">
      <svg
        role="img"
        aria-label={summary}
        width={width}
        height={CHART_HEIGHT}
        viewBox={`0 0 ${width} ${CHART_HEIGHT}`}
      >
        {ticks.map((tick) => (
          <g key={tick} className="chart-grid">
            <line x1={PAD.left} x2={PAD.left + plotWidth} y1={y(tick)} y2={y(tick)} />
            <text x={PAD.left - 6} y={y(tick)} dy="0.32em" textAnchor="end">
              {compact.format(toMajorNumber(Math.round(tick), currency))}
            </text>
          </g>
        ))}
        {months.map((m, i) => {
          const value = m.mrr || 0
          const x = PAD.left + slot * i + (slot - barWidth) / 2
          const label = monthLabel(m.month)
          const newYear = i === 0 || label.short === 'Jan'
          return (
            <g key={m.month}>
              <rect
                className="chart-bar"
                x={x}
                y={y(value)}
                width={barWidth}
                height={Math.max(PAD.top + plotHeight - y(value), value > 0 ? 1 : 0)}
                rx="3"
              />
              {showValues && value > 0 && (
                <text
                  className="chart-value"
                  x={x + barWidth / 2}
                  y={y(value) - 6}
                  textAnchor="middle"
                >
                  {money(value)}
                </text>
              )}
              <text
                className="chart-month"
                x={x + barWidth / 2}
                y={PAD.top + plotHeight + 16}
                textAnchor="middle"
              >
                {label.short}
              </text>
              {newYear && (
                <text
                  className="chart-year"
                  x={x + barWidth / 2}
                  y={PAD.top + plotHeight + 32}
                  textAnchor="middle"
                >
                  {label.year}
                </text>
              )}
            </g>
          )
        })}
      </svg>
      <p className="muted small">Amounts in {currency}.</p>
    </div>
  )
}

const SUBSCRIPTION_COLUMNS = ['Subscription', 'Plan', 'Vendor', 'Status', 'Next charge']

function SubscriptionTable({ subscriptions }) {
  return (
    <section aria-labelledby="list-heading">
      <h2 id="list-heading">All subscriptions</h2>
      {subscriptions.length === 0 ? (
        <p>No subscriptions yet.</p>
      ) : (
        <DataTable caption="Every subscription with its next charge" columns={SUBSCRIPTION_COLUMNS}>
          {subscriptions.map((sub) => (
            <tr key={sub.subscription_id}>
              <th scope="row">
                <Link to={subscriptionPath(sub.subscription_id)} className="mono">
                  {sub.subscription_id}
                </Link>
              </th>
              <td>{sub.plan?.name}</td>
              <td>{vendorName(sub.vendor)}</td>
              <td>
                <span className={`badge badge-sub-${sub.status}`}>
                  {subscriptionStatusLabel(sub.status)}
                </span>
              </td>
              <td>{nextChargeText(sub)}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  )
}
