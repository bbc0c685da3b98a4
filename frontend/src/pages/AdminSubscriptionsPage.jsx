import { useState } from 'react'
import { Link } from 'react-router-dom'
import {
  Bar,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts'
import { AdminControls } from '../components/AdminControls.jsx'
import { ConfigGate } from '../components/ConfigProvider.jsx'
import { DataTable } from '../components/DataTable.jsx'
import { useLoad } from '../hooks/useLoad.js'
import { usePageTitle } from '../hooks/usePageTitle.js'
import { getSubscriptionDashboard, listSubscriptions } from '../lib/api.js'
import { formatDate, formatMoney, toMajorNumber } from '../lib/format.js'
import { locale, t } from '../lib/i18n.js'
import { nextChargeText, subscriptionStatusLabel, vendorName } from '../lib/messages.js'
import { subscriptionPath } from '../lib/paths.js'

const MONTH_CHOICES = [6, 12]
// Series colours (SVG attributes take no CSS variables); the tables beside carry the same data.
const COLOURS = {
  joined: '#2450d6',
  canceled: '#c26a00',
  churned: '#a3222a',
  active_at_end: '#17663a',
  revenue: '#2450d6',
  refunds: '#a3222a',
  net: '#17663a',
  mrr: '#6b3fc4',
}

export default function AdminSubscriptionsPage() {
  usePageTitle(t('subs.title'))
  return (
    <>
      <h1>{t('subs.title')}</h1>
      <ConfigGate>{(config) => <Dashboard config={config} />}</ConfigGate>
    </>
  )
}

function Dashboard({ config }) {
  const [months, setMonths] = useState(MONTH_CHOICES[0])
  const { data, error, loading, reload } = useLoad(async () => {
    const [dashboard, list] = await Promise.all([
      getSubscriptionDashboard(months),
      listSubscriptions(),
    ])
    return { dashboard, subscriptions: list.subscriptions || [] }
  })

  function changeMonths(value) {
    setMonths(value)
    reload()
  }

  return (
    <div className="admin">
      <AdminControls config={config} loading={loading} error={error} onRefresh={reload} />
      {loading && !data && <p role="status">{t('subs.loading')}</p>}
      {data && (
        <>
          <Figures dashboard={data.dashboard} />
          <label className="months-choice">
            {t('subs.monthsShown')}{' '}
            <select value={months} onChange={(e) => changeMonths(Number(e.target.value))}>
              {MONTH_CHOICES.map((n) => (
                <option key={n} value={n}>
                  {t('subs.lastMonths', { count: n })}
                </option>
              ))}
            </select>
          </label>
          <MonthlyPicture dashboard={data.dashboard} />
          <SubscriberTable subscriptions={data.subscriptions} />
        </>
      )}
    </div>
  )
}

function Figures({ dashboard: d }) {
  const figures = [
    ['subs.fig.active', d.active],
    ['subs.fig.joined', d.new_this_month],
    ['subs.fig.canceled', d.canceled_this_month],
    ['subs.fig.churned', d.churned_this_month],
    ['subs.fig.mrr', formatMoney(d.mrr, d.currency)],
    ['subs.fig.failed', d.failed_charges_this_month],
    ['subs.fig.pastDue', d.past_due],
  ]
  return (
    <section aria-labelledby="figures-heading">
      <h2 id="figures-heading">{t('subs.thisMonth')}</h2>
      <dl className="figures">
        {figures.map(([key, value]) => (
          <div key={key} className="card figure">
            <dt>{t(key)}</dt>
            <dd>{value ?? '—'}</dd>
          </div>
        ))}
      </dl>
      <p className="muted small">{t('subs.thisMonthNote', { zone: d.timezone })}</p>
    </section>
  )
}

/** "2026-07" in the page's language: {short: "7월" / "Jul", long: "2026년 7월" / "Jul 2026"}. */
function monthLabel(month) {
  const [year, mon] = month.split('-').map(Number)
  if (!year || !mon) return { short: month, long: month }
  const date = new Date(Date.UTC(year, mon - 1, 1))
  const format = (options) => date.toLocaleDateString(locale(), { ...options, timeZone: 'UTC' })
  return { short: format({ month: 'short' }), long: format({ year: 'numeric', month: 'short' }) }
}

// Each chart: its series (bars, then at most one line) and how its values read.
const CHARTS = [
  {
    id: 'members',
    bars: ['joined', 'canceled', 'churned'],
    line: 'active_at_end',
    money: false,
  },
  { id: 'money', bars: ['revenue', 'refunds'], line: 'net', money: true },
  { id: 'mrr', bars: ['mrr'], line: null, money: true },
]

function MonthlyPicture({ dashboard }) {
  const months = dashboard.months || []
  if (months.length === 0) return <p className="muted">{t('subs.noMonths')}</p>
  return CHARTS.map((chart) => (
    <MonthlyChart key={chart.id} chart={chart} months={months} currency={dashboard.currency} />
  ))
}

function MonthlyChart({ chart, months, currency }) {
  const series = chart.line ? [...chart.bars, chart.line] : chart.bars
  const value = (amount) => (chart.money ? formatMoney(amount, currency) : String(amount))
  const compact = new Intl.NumberFormat(locale(), { notation: 'compact', maximumFractionDigits: 1 })
  const rows = months.map((m) => ({
    ...m,
    label: monthLabel(m.month).short,
    ...Object.fromEntries(
      series.map((key) => [key, chart.money ? toMajorNumber(m[key], currency) : m[key]]),
    ),
  }))
  const heading = `chart-${chart.id}-heading`
  const first = monthLabel(months[0].month).long
  const last = monthLabel(months[months.length - 1].month).long
  return (
    <section aria-labelledby={heading} className="card monthly" data-chart={chart.id}>
      <h2 id={heading}>{t(`subs.chart.${chart.id}`)}</h2>
      <div className="monthly-grid">
        <figure
          className="monthly-chart"
          role="img"
          aria-label={t('subs.chartLabel', { title: t(`subs.chart.${chart.id}`), first, last })}
        >
          <ResponsiveContainer width="100%" height={260}>
            <ComposedChart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="label" tickLine={false} />
              <YAxis
                allowDecimals={false}
                width={chart.money ? 56 : 32}
                tickFormatter={(v) => compact.format(v)}
              />
              <Tooltip
                formatter={(v) => (chart.money ? formatMoney(Math.round(v), currency) : v)}
              />
              <Legend itemSorter={null} />
              {chart.bars.map((key) => (
                <Bar
                  key={key}
                  dataKey={key}
                  name={t(`subs.col.${key}`)}
                  fill={COLOURS[key]}
                  isAnimationActive={false}
                />
              ))}
              {chart.line && (
                <Line
                  dataKey={chart.line}
                  name={t(`subs.col.${chart.line}`)}
                  stroke={COLOURS[chart.line]}
                  strokeWidth={2}
                  isAnimationActive={false}
                />
              )}
            </ComposedChart>
          </ResponsiveContainer>
          {chart.money && (
            <figcaption className="muted small">{t('subs.amountsIn', { currency })}</figcaption>
          )}
        </figure>
        <DataTable
          className="monthly-table"
          caption={t('subs.tableCaption', { title: t(`subs.chart.${chart.id}`) })}
          columns={[
            t('subs.col.month'),
            ...series.map((key) => ({ label: t(`subs.col.${key}`), className: 'num' })),
          ]}
        >
          {months.map((m) => (
            <tr key={m.month} data-month={m.month}>
              <th scope="row">{monthLabel(m.month).long}</th>
              {series.map((key) => (
                <td key={key} className="num" data-key={key}>
                  {value(m[key])}
                </td>
              ))}
            </tr>
          ))}
        </DataTable>
      </div>
    </section>
  )
}

const SUBSCRIBER_COLUMNS = [
  'subs.list.subscription',
  'subs.list.name',
  'subs.list.email',
  'subs.list.plan',
  'subs.list.vendor',
  'subs.list.status',
  'subs.list.started',
  'subs.list.next',
]

function SubscriberTable({ subscriptions }) {
  return (
    <section aria-labelledby="list-heading">
      <h2 id="list-heading">{t('subs.list.title')}</h2>
      {subscriptions.length === 0 ? (
        <p>{t('subs.list.none')}</p>
      ) : (
        <DataTable
          className="subscribers"
          caption={t('subs.list.caption')}
          columns={SUBSCRIBER_COLUMNS.map((key) => t(key))}
        >
          {subscriptions.map((sub) => (
            <tr key={sub.subscription_id}>
              <th scope="row">
                <Link to={subscriptionPath(sub.subscription_id)} className="mono">
                  {sub.subscription_id}
                </Link>
              </th>
              <td>{sub.buyer?.name || '—'}</td>
              <td className="email">{sub.buyer?.email || '—'}</td>
              <td>{sub.plan?.name}</td>
              <td>{vendorName(sub.vendor)}</td>
              <td>
                <span className={`badge badge-sub-${sub.status}`}>
                  {subscriptionStatusLabel(sub.status)}
                </span>
              </td>
              <td className="nowrap">{formatDate(sub.created_at)}</td>
              <td>{nextChargeText(sub)}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  )
}
