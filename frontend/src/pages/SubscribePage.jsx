import { useEffect, useState } from 'react'
import { Link, useNavigate } from 'react-router-dom'
import { activateSubscription, createSubscription, listPlans } from '../api.js'
import { ConfigGate } from '../config.jsx'
import { formatMoney, perInterval } from '../format.js'
import { loadScript, registerCardWithPortOne, registerCardWithToss } from '../gateways.js'
import { cardErrorText, errorText, VENDOR_NAMES } from '../messages.js'

export default function SubscribePage() {
  return (
    <>
      <h1>Subscribe</h1>
      <ConfigGate>{(config) => <Subscribe config={config} />}</ConfigGate>
    </>
  )
}

function usePlans() {
  const [state, setState] = useState({ plans: null, error: null })
  const [attempt, setAttempt] = useState(0)

  useEffect(() => {
    let active = true
    listPlans().then(
      (data) => active && setState({ plans: data.plans || [], error: null }),
      (error) => active && setState({ plans: null, error }),
    )
    return () => {
      active = false
    }
  }, [attempt])

  function reload() {
    setState({ plans: null, error: null })
    setAttempt((n) => n + 1)
  }

  return { ...state, reload }
}

function Subscribe({ config }) {
  const navigate = useNavigate()
  const { plans, error: plansError, reload } = usePlans()
  const vendors = Object.keys(config.vendors || {}).filter((v) => VENDOR_NAMES[v])

  const [planId, setPlanId] = useState(null)
  const [vendor, setVendor] = useState(vendors[0] || 'iamport')
  const [buyer, setBuyer] = useState({ name: 'Hong Gildong', email: 'buyer@example.com' })
  const [busy, setBusy] = useState(false)
  const [progress, setProgress] = useState('')
  const [error, setError] = useState(null)

  // Load the SDKs early, so that the billing window opens soon after the click.
  useEffect(() => {
    for (const v of Object.values(config.vendors || {})) loadScript(v.sdk_url).catch(() => {})
  }, [config])

  const chosenId = planId ?? plans?.[0]?.id ?? null
  const plan = plans?.find((p) => p.id === chosenId) || null

  async function subscribe(event) {
    event.preventDefault()
    setError(null)
    setBusy(true)
    const vendorConfig = config.vendors[vendor]
    let subscription = null
    try {
      setProgress('Creating the subscription…')
      await loadScript(vendorConfig.sdk_url) // before the subscription exists, if the gateway is down
      subscription = await createSubscription({ planId: chosenId, vendor, buyer })
      const { setup } = subscription

      setProgress('Waiting for the card window…')
      if (vendor === 'toss') {
        await registerCardWithToss(vendorConfig, setup, subscription.subscription_id, { buyer })
        return // the window sends the browser to /subscriptions/toss/success or /fail
      }
      const result = await registerCardWithPortOne(vendorConfig, setup, buyer)
      if (!result.ok) {
        setError({ text: cardErrorText(result), subscriptionId: subscription.subscription_id })
        return
      }

      setProgress('Starting the subscription…')
      const active = await activateSubscription(subscription.subscription_id, {
        imp_uid: result.paymentId,
      })
      navigate(`/subscriptions/${encodeURIComponent(active.subscription_id)}`)
    } catch (err) {
      setError({ text: cardErrorText(err), subscriptionId: subscription?.subscription_id })
    } finally {
      setBusy(false)
      setProgress('')
    }
  }

  if (plansError) {
    return (
      <div role="alert" className="notice notice-error">
        <p>{errorText(plansError)}</p>
        <button type="button" onClick={reload}>
          Try again
        </button>
      </div>
    )
  }
  if (!plans) return <p role="status">Loading plans…</p>

  return (
    <form onSubmit={subscribe} className="subscribe card">
      {plans.length === 0 ? (
        <p className="muted">No plans are offered at the moment.</p>
      ) : (
        <fieldset>
          <legend>Plan</legend>
          <div className="plans">
            {plans.map((p) => (
              <label key={p.id} className="choice plan">
                <input
                  type="radio"
                  name="plan"
                  value={p.id}
                  checked={chosenId === p.id}
                  onChange={() => setPlanId(p.id)}
                />
                <span className="plan-name">{p.name}</span>
                <span className="plan-price">
                  {formatMoney(p.amount, p.currency)} {perInterval(p.interval)}
                </span>
              </label>
            ))}
          </div>
        </fieldset>
      )}

      <fieldset>
        <legend>Gateway</legend>
        {vendors.map((v) => (
          <label key={v} className="choice">
            <input
              type="radio"
              name="vendor"
              value={v}
              checked={vendor === v}
              onChange={() => setVendor(v)}
            />
            {VENDOR_NAMES[v]}
          </label>
        ))}
      </fieldset>

      <div className="fields">
        <label>
          Buyer name
          <input
            value={buyer.name}
            autoComplete="name"
            onChange={(e) => setBuyer({ ...buyer, name: e.target.value })}
          />
        </label>
        <label>
          Buyer email
          <input
            type="email"
            value={buyer.email}
            autoComplete="email"
            onChange={(e) => setBuyer({ ...buyer, email: e.target.value })}
          />
        </label>
      </div>

      {plan && (
        <p className="muted small" id="subscribe-terms">
          {`The card window registers your card and pays the first ${plan.interval} ` +
            `(${formatMoney(plan.amount, plan.currency)}) at once; after that the same amount ` +
            `is charged ${perInterval(plan.interval)} until you cancel.`}
        </p>
      )}

      <button
        type="submit"
        className="primary"
        disabled={busy || !plan || vendors.length === 0}
        aria-describedby={plan ? 'subscribe-terms' : undefined}
      >
        Subscribe
      </button>

      {progress && (
        <p role="status" className="muted">
          {progress}
        </p>
      )}
      {error && (
        <div role="alert" className="notice notice-error">
          <p>{error.text}</p>
          {error.subscriptionId && (
            <p>
              <Link to={`/subscriptions/${encodeURIComponent(error.subscriptionId)}`}>
                View subscription {error.subscriptionId}
              </Link>
            </p>
          )}
        </div>
      )}
    </form>
  )
}
