// Test mode: the backend's test clock, moved forward from the subscriber's page.
import { useState } from 'react'
import { Outcome, Progress } from '../components/notices.jsx'
import { useLoad } from '../hooks/useLoad.js'
import { formatTime } from '../lib/format.js'
import { errorText } from '../lib/messages.js'
import { advanceTestClock, advanceTestClockMonths, getTestClock, resetTestClock } from './api.js'

const DAY = 86400

/** The clock's time, "Advance 1 day / 1 month" and "Reset"; `onAdvanced` refreshes the page. */
export function TestClock({ onAdvanced }) {
  // A failed load leaves the buttons working; only the time is not shown.
  const { data: clock, setData: setClock } = useLoad(getTestClock)
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState(null)

  async function move(call, label) {
    setBusy(true)
    setResult(null)
    try {
      const answer = await call()
      setClock(answer)
      await onAdvanced().catch(() => {}) // the 2 s poll catches up otherwise
      const jobs = answer.ran?.jobs ?? 0
      setResult({
        ok: `${label}; now ${formatTime(answer.now)}. ${jobs} job${jobs === 1 ? '' : 's'} ran.`,
      })
    } catch (err) {
      setResult({ error: errorText(err) })
    } finally {
      setBusy(false)
    }
  }

  const days = clock ? Math.floor((clock.offset_seconds || 0) / DAY) : 0
  return (
    <section aria-labelledby="clock-heading" className="card test-clock">
      <h2 id="clock-heading">Test clock</h2>
      <p className="muted small">
        Test mode only: moves the backend&apos;s and both fake gateways&apos; clocks forward, then
        runs the renewals and retries that fall due. Reset returns all three to real time.
      </p>
      {clock && (
        <p>
          Backend time: <strong>{formatTime(clock.now)}</strong>
          {days > 0 && (
            <span className="muted">
              {' '}
              ({days} day{days === 1 ? '' : 's'} ahead)
            </span>
          )}
        </p>
      )}
      <div className="row">
        <button
          type="button"
          onClick={() => move(() => advanceTestClock(DAY), 'Advanced 1 day')}
          disabled={busy}
        >
          Advance 1 day
        </button>
        <button
          type="button"
          onClick={() => move(() => advanceTestClockMonths(1), 'Advanced 1 month')}
          disabled={busy}
        >
          Advance 1 month
        </button>
        <button
          type="button"
          onClick={() => move(resetTestClock, 'Clock reset to real time')}
          disabled={busy || !clock?.offset_seconds}
        >
          Reset clock
        </button>
      </div>
      {busy && <Progress>Advancing the clock…</Progress>}
      <Outcome ok={result?.ok} error={result?.error} />
    </section>
  )
}
