// Test mode: the backend's test clock, moved forward from the subscriber's page.
import { useState } from 'react'
import { Outcome, Progress } from '../components/notices.jsx'
import { useLoad } from '../hooks/useLoad.js'
import { formatTime } from '../lib/format.js'
import { t } from '../lib/i18n.js'
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
        ok: t(jobs === 1 ? 'clock.result.one' : 'clock.result.other', {
          label,
          time: formatTime(answer.now),
          jobs,
        }),
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
      <h2 id="clock-heading">{t('clock.title')}</h2>
      <p className="muted small">{t('clock.explain')}</p>
      {clock && (
        <p>
          {t('clock.backendTime')}
          <strong>{formatTime(clock.now)}</strong>
          {days > 0 && (
            <span className="muted">
              {' '}
              {t(days === 1 ? 'clock.ahead.one' : 'clock.ahead.other', { days })}
            </span>
          )}
        </p>
      )}
      <div className="row">
        <button
          type="button"
          onClick={() => move(() => advanceTestClock(DAY), t('clock.advancedDay'))}
          disabled={busy}
        >
          {t('clock.advanceDay')}
        </button>
        <button
          type="button"
          onClick={() => move(() => advanceTestClockMonths(1), t('clock.advancedMonth'))}
          disabled={busy}
        >
          {t('clock.advanceMonth')}
        </button>
        <button
          type="button"
          onClick={() => move(resetTestClock, t('clock.wasReset'))}
          disabled={busy || !clock?.offset_seconds}
        >
          {t('clock.reset')}
        </button>
      </div>
      {busy && <Progress>{t('clock.advancing')}</Progress>}
      <Outcome ok={result?.ok} error={result?.error} />
    </section>
  )
}
