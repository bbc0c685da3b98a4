import { useCallback, useEffect, useId, useRef, useState } from 'react'
import { Link, useLocation, useParams } from 'react-router-dom'
import { DataTable } from '../components/DataTable.jsx'
import { BackToPlans } from '../components/links.jsx'
import { ErrorNotice, Outcome, Progress, StatusLine } from '../components/notices.jsx'
import { DevOnly } from '../dev/DevOnly.jsx'
import { TestClock } from '../dev/TestClock.jsx'
import { useConfig } from '../hooks/useConfig.js'
import { usePageTitle } from '../hooks/usePageTitle.js'
import { usePolling } from '../hooks/usePolling.js'
import {
  cancelSubscription,
  confirmCardReplacement,
  getSubscription,
  startCardReplacement,
} from '../lib/api.js'
import { registerCard } from '../lib/billing.js'
import { formatDate, formatMoney, formatTime, perInterval } from '../lib/format.js'
import { t } from '../lib/i18n.js'
import {
  cardErrorText,
  cardReplacedText,
  chargeStatusLabel,
  errorText,
  nextChargeText,
  subscriptionStatusLabel,
  vendorName,
} from '../lib/messages.js'

const POLL_MS = 2000

export default function SubscriptionPage() {
  const { subscriptionId } = useParams()
  return <Subscription key={subscriptionId} subscriptionId={subscriptionId} />
}

/**
 * The subscription, polled every 2 s. `mutate` runs a change (cancel, new card, clock) whose
 * answer wins over any poll that was already under way.
 */
function useSubscription(subscriptionId) {
  const [subscription, setSubscription] = useState(null)
  const [loadError, setLoadError] = useState(null)
  const issued = useRef(0)
  const applied = useRef(0)
  const changing = useRef(0)

  const track = useCallback((promise) => {
    const ticket = ++issued.current
    return promise.then((sub) => {
      if (ticket > applied.current && sub?.subscription_id) {
        applied.current = ticket
        setSubscription(sub)
        setLoadError(null)
      }
      return sub
    })
  }, [])

  const refresh = useCallback(
    () => track(getSubscription(subscriptionId)),
    [track, subscriptionId],
  )

  const mutate = useCallback(
    async (change) => {
      changing.current += 1
      try {
        return await track(change())
      } finally {
        changing.current -= 1
      }
    },
    [track],
  )

  usePolling(
    async (signal) => {
      // A poll answered while a change runs could be older than the change's own answer.
      if (changing.current > 0) return
      try {
        await refresh()
      } catch (err) {
        if (signal.aborted) return
        setLoadError(err)
        if (err.status === 404) return false // no such subscription: stop asking
      }
    },
    { interval: POLL_MS, immediate: true },
  )

  return { subscription, loadError, refresh, mutate }
}

function Subscription({ subscriptionId }) {
  const location = useLocation()
  const { config } = useConfig()
  const { subscription: sub, loadError, refresh, mutate } = useSubscription(subscriptionId)
  // What the last action did (card replaced, canceled), also when it came from the Toss return page.
  const [flash, setFlash] = useState(location.state?.notice || null)
  usePageTitle(t('sub.title', { id: subscriptionId }))

  return (
    <>
      <h1>{t('sub.title', { id: subscriptionId })}</h1>
      {loadError && !sub && (
        <ErrorNotice
          text={
            loadError.status === 404 ? t('sub.notFound') : errorText(loadError)
          }
        />
      )}
      {!sub && !loadError && <p role="status">{t('sub.loading')}</p>}
      {sub && (
        <>
          <StatusLine label={t('sub.statusLabel')} badge={`badge-sub-${sub.status}`}>
            {subscriptionStatusLabel(sub.status)}
          </StatusLine>
          {flash && (
            <p role="status" className="notice notice-ok">
              {flash}
            </p>
          )}
          {sub.status === 'incomplete' && (
            <p className="muted">
              {t('sub.incomplete')} <Link to="/subscribe">{t('sub.subscribeAgain')}</Link>
              {t('sub.toStart')}
            </p>
          )}
          {sub.status === 'past_due' && (
            <PastDue subscription={sub} config={config} mutate={mutate} onDone={setFlash} />
          )}
          <Details subscription={sub} config={config} mutate={mutate} onDone={setFlash} />
          <DevOnly>
            <TestClock onAdvanced={refresh} />
          </DevOnly>
          <Charges subscription={sub} />
        </>
      )}
      <BackToPlans />
    </>
  )
}

function Details({ subscription: sub, config, mutate, onDone }) {
  const { plan } = sub
  const live = sub.status === 'active' || sub.status === 'past_due'
  return (
    <section aria-labelledby="details-heading" className="card">
      <h2 id="details-heading">{plan.name}</h2>
      <dl className="facts">
        <dt>{t('sub.plan')}</dt>
        <dd>
          {plan.name} · {formatMoney(plan.amount, plan.currency)} {perInterval(plan.interval)}
        </dd>
        <dt>{t('sub.gateway')}</dt>
        <dd>{vendorName(sub.vendor)}</dd>
        <dt>{t('sub.card')}</dt>
        <dd>
          {sub.card ? (
            <>
              {sub.card.company} <span className="nowrap">{sub.card.number}</span>
            </>
          ) : (
            t('sub.noCard')
          )}
        </dd>
        {sub.current_period_start && sub.current_period_end && (
          <>
            <dt>{t('sub.currentPeriod')}</dt>
            <dd>
              {formatDate(sub.current_period_start)} – {formatDate(sub.current_period_end)}
            </dd>
          </>
        )}
        <dt>{t('sub.nextCharge')}</dt>
        <dd>{nextChargeText(sub, t('sub.onceRegistered'))}</dd>
        {sub.status === 'canceled' && (
          <>
            <dt>{t('sub.accessUntil')}</dt>
            <dd>{sub.access_until ? formatTime(sub.access_until) : t('sub.ended')}</dd>
            {sub.canceled_at && (
              <>
                <dt>{t('sub.canceledAt')}</dt>
                <dd>
                  {formatTime(sub.canceled_at)}
                  {sub.cancel_reason && ` — ${sub.cancel_reason}`}
                </dd>
              </>
            )}
          </>
        )}
        <dt>{t('sub.started')}</dt>
        <dd>{formatTime(sub.created_at)}</dd>
      </dl>
      {live && (
        <div className="sub-actions">
          {/* While past due the button sits in the "Payment failed" panel instead. */}
          {sub.status === 'active' && (
            <CardReplacement subscription={sub} config={config} mutate={mutate} onDone={onDone} />
          )}
          <CancelSubscription subscription={sub} mutate={mutate} onDone={onDone} />
        </div>
      )}
    </section>
  )
}

function PastDue({ subscription: sub, config, mutate, onDone }) {
  const failed = [...(sub.charges || [])].reverse().find((c) => c.status === 'failed')
  const amount = failed?.amount ?? sub.next_charge_amount ?? sub.plan.amount
  return (
    <section aria-labelledby="past-due-heading" className="card past-due">
      <h2 id="past-due-heading">{t('sub.pastDue.title')}</h2>
      <p>
        {t('sub.pastDue.declined', {
          amount: formatMoney(amount, sub.plan.currency),
          period: failed?.period ? t('sub.pastDue.period', { period: failed.period }) : '',
          failure: failed?.failure ? `: ${failed.failure.replace(/[.!]?$/, '.')}` : '.',
        })}
      </p>
      {sub.retry?.next_retry_at ? (
        <p>
          {t('sub.pastDue.retry', {
            time: formatTime(sub.retry.next_retry_at),
            attempt: sub.retry.attempt
              ? t('sub.pastDue.attempt', { attempt: sub.retry.attempt })
              : '',
          })}
        </p>
      ) : (
        <p>{t('sub.pastDue.noRetry')}</p>
      )}
      <p>{t('sub.pastDue.replace')}</p>
      <CardReplacement
        subscription={sub}
        config={config}
        mutate={mutate}
        onDone={onDone}
        prominent
      />
    </section>
  )
}

function CardReplacement({ subscription: sub, config, mutate, onDone, prominent = false }) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState(null)
  const vendor = config?.vendors?.[sub.vendor]

  async function replace() {
    setBusy(true)
    setError(null)
    onDone(null)
    const wasPastDue = sub.status === 'past_due'
    try {
      const { setup } = await startCardReplacement(sub.subscription_id)
      const card = await registerCard({
        vendor: sub.vendor,
        vendorConfig: vendor,
        setup,
        subscriptionId: sub.subscription_id,
        buyer: sub.buyer,
        action: 'card',
      })
      if (card.redirected) return
      if (card.failure) {
        setError(cardErrorText(card.failure))
        return
      }
      const updated = await mutate(() => confirmCardReplacement(sub.subscription_id, card.proof))
      onDone(cardReplacedText(wasPastDue, updated))
    } catch (err) {
      setError(cardErrorText(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="card-replacement">
      <button
        type="button"
        className={prominent ? 'primary' : undefined}
        onClick={replace}
        disabled={busy || !vendor}
      >
        {t('sub.replaceCard')}
      </button>
      {busy && <Progress>{t('subscribe.waiting')}</Progress>}
      {error && <ErrorNotice text={error} />}
    </div>
  )
}

function CancelSubscription({ subscription: sub, mutate, onDone }) {
  const [confirming, setConfirming] = useState(false)
  const [reason, setReason] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState(null)
  const questionId = useId()
  const keepRef = useRef(null)
  const cancelRef = useRef(null)
  const wasConfirming = useRef(false)

  // Focus follows the confirmation: into it when it opens, back to the button when it closes.
  useEffect(() => {
    if (confirming) keepRef.current?.focus()
    else if (wasConfirming.current) cancelRef.current?.focus()
    wasConfirming.current = confirming
  }, [confirming])

  async function cancel() {
    setBusy(true)
    setError(null)
    onDone(null)
    try {
      const canceled = await mutate(() =>
        cancelSubscription(sub.subscription_id, reason.trim() || undefined),
      )
      const until = canceled.access_until
        ? t('sub.until', { time: formatTime(canceled.access_until) })
        : ''
      onDone(t('sub.canceledDone', { until }))
    } catch (err) {
      setError(errorText(err))
    } finally {
      setBusy(false)
    }
  }

  const until = sub.current_period_end || sub.access_until
  if (!confirming) {
    return (
      <div className="cancel">
        <button type="button" className="danger" ref={cancelRef} onClick={() => setConfirming(true)}>
          {t('sub.cancel')}
        </button>
      </div>
    )
  }
  return (
    <div role="group" aria-labelledby={questionId} className="cancel confirm notice notice-warning">
      <p id={questionId}>
        <strong>{t('sub.cancelQuestion')}</strong>{' '}
        {t('sub.cancelExplain', {
          until: until ? t('sub.until', { time: formatTime(until) }) : '',
        })}
      </p>
      <label>
        {t('sub.reason')}
        <input value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
      <div className="row">
        <button type="button" className="danger solid" onClick={cancel} disabled={busy}>
          {t('sub.yesCancel')}
        </button>
        <button
          type="button"
          ref={keepRef}
          onClick={() => setConfirming(false)}
          disabled={busy}
        >
          {t('sub.keep')}
        </button>
      </div>
      <Outcome error={error} />
    </div>
  )
}

function chargeDate(charge) {
  return (
    charge.paid_at ||
    charge.failed_at ||
    charge.attempted_at ||
    charge.scheduled_at ||
    charge.created_at ||
    null
  )
}

const chargeColumns = () => [
  { label: t('sub.col.period'), className: 'num' },
  t('sub.col.date'),
  { label: t('sub.col.amount'), className: 'num' },
  t('sub.col.status'),
]

function Charges({ subscription: sub }) {
  const charges = sub.charges || []
  return (
    <section aria-labelledby="charges-heading" className="card charges-card">
      <h2 id="charges-heading">{t('sub.charges')}</h2>
      {charges.length === 0 ? (
        <p className="muted">{t('sub.noCharges')}</p>
      ) : (
        <DataTable
          className="charges"
          caption={t('sub.chargesCaption')}
          columns={chargeColumns()}
        >
          {charges.map((charge) => {
            const date = chargeDate(charge)
            return (
              <tr key={charge.id}>
                <th scope="row" className="num">
                  {charge.period}
                </th>
                <td className="nowrap">
                  {date && (
                    <time dateTime={date} title={formatTime(date)}>
                      {formatDate(date)}
                    </time>
                  )}
                </td>
                <td className="num">{formatMoney(charge.amount, sub.plan.currency)}</td>
                <td>
                  <span className={`badge badge-${charge.status}`}>
                    {chargeStatusLabel(charge.status)}
                  </span>
                  {charge.key_issue && (
                    <span className="charge-note">{t('sub.firstPayment')}</span>
                  )}
                  {charge.failure && <span className="charge-note error">{charge.failure}</span>}
                </td>
              </tr>
            )
          })}
        </DataTable>
      )}
    </section>
  )
}
