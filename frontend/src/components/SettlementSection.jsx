// The owner's daily settlement: each gateway's payments and refunds of a day beside our ledger.
import { useState } from 'react'
import { getAdminToken, getSettlement } from '../lib/api.js'
import { formatMoney, formatTime } from '../lib/format.js'
import { errorText, methodName, vendorName } from '../lib/messages.js'
import { DataTable } from './DataTable.jsx'
import { ErrorNotice } from './notices.jsx'

const DIFFERENCES = {
  missing_in_ledger: 'Missing in our ledger',
  missing_at_gateway: 'Missing at the gateway',
  amount_differs: 'Amount differs',
  status_differs: 'Status differs',
}
const TOTAL_COLUMNS = ['Gateway', 'Method', 'Payments', 'Refunds', 'Net', 'Our ledger']
const LINE_COLUMNS = ['Time', 'Gateway', 'Kind', 'Order', 'Gateway amount', 'Our amount', 'Check']

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
  if (!response.ok) throw new Error(`The CSV could not be made (HTTP ${response.status}).`)
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
      <h2 id="settlement-heading">Daily settlement</h2>
      <p className="muted small">
        Every payment and refund the gateways list for a day (Korean time), beside our ledger.
      </p>
      <div className="row">
        <label>
          Day{' '}
          <input type="date" value={day} onChange={(e) => setDay(e.target.value)} required />
        </label>
        <button type="button" onClick={load} disabled={busy || !day}>
          Settle
        </button>
        <button type="button" onClick={() => run(() => downloadCsv(day))} disabled={busy || !day}>
          Download CSV
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
        <ErrorNotice key={vendor} text={`${vendorName(vendor)} could not be listed: ${why}`} />
      ))}
      <p role="status">
        {result.lines.length} transactions,{' '}
        <strong className={result.differences ? 'settlement-differs' : ''}>
          {result.differences} {result.differences === 1 ? 'difference' : 'differences'}
        </strong>
      </p>
      {result.totals.length > 0 && (
        <DataTable caption="Totals per gateway and method" columns={TOTAL_COLUMNS}>
          {result.totals.map((t) => (
            <tr key={`${t.vendor}-${t.method}-${t.currency}`}>
              <th scope="row">{vendorName(t.vendor)}</th>
              <td>{methodName(t.method)}</td>
              <td className="num">
                {formatMoney(t.payments, t.currency)} ({t.payment_count})
              </td>
              <td className="num">
                {formatMoney(t.refunds, t.currency)} ({t.refund_count})
              </td>
              <td className="num">{formatMoney(t.net, t.currency)}</td>
              <td className={`num${t.ledger_net !== t.net ? ' settlement-differs' : ''}`}>
                {formatMoney(t.ledger_net, t.currency)}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {lines.length > 0 && (
        <DataTable caption="Each payment and refund of the day" columns={LINE_COLUMNS}>
          {lines.map((line) => (
            <tr
              key={`${line.vendor}-${line.kind}-${line.transaction_id}`}
              className={line.difference ? 'settlement-differs' : undefined}
            >
              <td>{formatTime(line.at)}</td>
              <td>{vendorName(line.vendor)}</td>
              <td>{line.kind === 'payment' ? 'Payment' : 'Refund'}</td>
              <td className="mono">{line.order_id}</td>
              <td className="num">{formatMoney(line.gateway_amount, line.currency)}</td>
              <td className="num">{formatMoney(line.ledger_amount, line.currency)}</td>
              <td>{line.difference ? DIFFERENCES[line.difference] : line.note || 'OK'}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </>
  )
}
