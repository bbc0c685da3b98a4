// The owner's daily settlement: each gateway's payments and refunds of a day beside our ledger.
import { useState } from 'react'
import { getAdminToken, getSettlement } from '../lib/api.js'
import { formatMoney, formatTime } from '../lib/format.js'
import { t } from '../lib/i18n.js'
import { errorText, methodName, vendorName } from '../lib/messages.js'
import { DataTable } from './DataTable.jsx'
import { ErrorNotice } from './notices.jsx'

const DIFFERENCES = ['missing_in_ledger', 'missing_at_gateway', 'amount_differs', 'status_differs']
const TOTAL_COLUMNS = ['gateway', 'method', 'payments', 'refunds', 'net', 'ledger']
const LINE_COLUMNS = ['time', 'gateway', 'kind', 'order', 'gatewayAmount', 'ourAmount', 'check']
const columns = (keys) => keys.map((key) => t(`settle.col.${key}`))
const differenceText = (difference) =>
  DIFFERENCES.includes(difference) ? t(`settle.diff.${difference}`) : difference

/** Yesterday in Korea (the gateways settle by Korean calendar days), as YYYY-MM-DD. */
function yesterdayInKorea() {
  const day = new Date(Date.now() - 86400000)
  return day.toLocaleDateString('sv-SE', { timeZone: 'Asia/Seoul' })
}

async function downloadCsv(day) {
  const token = getAdminToken()
  const response = await fetch(`/api/admin/settlement/csv?date=${encodeURIComponent(day)}`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  })
  if (!response.ok) throw new Error(t('settle.csvFailed', { status: response.status }))
  const url = URL.createObjectURL(await response.blob())
  const link = Object.assign(document.createElement('a'), {
    href: url,
    download: `settlement-${day}.csv`,
  })
  link.click()
  URL.revokeObjectURL(url)
}

/** A date picker, the day's totals per gateway and method, and every line (differences first). */
export function SettlementSection() {
  const [day, setDay] = useState(yesterdayInKorea)
  const [result, setResult] = useState(null)
  const [error, setError] = useState(null)
  const [busy, setBusy] = useState(false)

  async function run(action) {
    setBusy(true)
    setError(null)
    try {
      await action()
    } catch (err) {
      setError(errorText(err))
    } finally {
      setBusy(false)
    }
  }

  const load = () => run(async () => setResult(await getSettlement(day)))
  return (
    <section aria-labelledby="settlement-heading" className="card settlement">
      <h2 id="settlement-heading">{t('settle.title')}</h2>
      <p className="muted small">{t('settle.explain')}</p>
      <div className="row">
        <label>
          {t('settle.day')}{' '}
          <input type="date" value={day} onChange={(e) => setDay(e.target.value)} required />
        </label>
        <button type="button" onClick={load} disabled={busy || !day}>
          {t('settle.run')}
        </button>
        <button type="button" onClick={() => run(() => downloadCsv(day))} disabled={busy || !day}>
          {t('settle.csv')}
        </button>
      </div>
      {error && <ErrorNotice text={error} />}
      {result && <SettlementResult result={result} />}
    </section>
  )
}

function SettlementResult({ result }) {
  const lines = [...result.lines].sort((a, b) => Boolean(b.difference) - Boolean(a.difference))
  return (
    <>
      {Object.entries(result.unavailable).map(([vendor, why]) => (
        <ErrorNotice key={vendor} text={t('settle.unavailable', { vendor: vendorName(vendor), why })} />
      ))}
      <p role="status">
        {t('settle.transactions', { count: result.lines.length })}{' '}
        <strong className={result.differences ? 'settlement-differs' : ''}>
          {t(result.differences === 1 ? 'settle.differences.one' : 'settle.differences.other', {
            count: result.differences,
          })}
        </strong>
      </p>
      {result.totals.length > 0 && (
        <DataTable caption={t('settle.totalsCaption')} columns={columns(TOTAL_COLUMNS)}>
          {result.totals.map((total) => (
            <tr key={`${total.vendor}-${total.method}-${total.currency}`}>
              <th scope="row">{vendorName(total.vendor)}</th>
              <td>{methodName(total.method)}</td>
              <td className="num">
                {formatMoney(total.payments, total.currency)} ({total.payment_count})
              </td>
              <td className="num">
                {formatMoney(total.refunds, total.currency)} ({total.refund_count})
              </td>
              <td className="num">{formatMoney(total.net, total.currency)}</td>
              <td
                className={`num${total.ledger_net !== total.net ? ' settlement-differs' : ''}`}
              >
                {formatMoney(total.ledger_net, total.currency)}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {lines.length > 0 && (
        <DataTable caption={t('settle.linesCaption')} columns={columns(LINE_COLUMNS)}>
          {lines.map((line) => (
            <tr
              key={`${line.vendor}-${line.kind}-${line.transaction_id}`}
              className={line.difference ? 'settlement-differs' : undefined}
            >
              <td>{formatTime(line.at)}</td>
              <td>{vendorName(line.vendor)}</td>
              <td>{line.kind === 'payment' ? t('settle.payment') : t('settle.refund')}</td>
              <td className="mono">{line.order_id}</td>
              <td className="num">{formatMoney(line.gateway_amount, line.currency)}</td>
              <td className="num">{formatMoney(line.ledger_amount, line.currency)}</td>
              <td>{line.difference ? differenceText(line.difference) : line.note || t('settle.ok')}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </>
  )
}
