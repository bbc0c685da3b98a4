import { useState } from 'react'
import { useNavigate } from 'react-router-dom'
import { BuyerFields, GatewayFieldset, RadioChoice } from '../components/CheckoutFields.jsx'
import { ConfigGate } from '../components/ConfigProvider.jsx'
import { SubscriptionLink } from '../components/links.jsx'
import { ErrorNotice, Progress } from '../components/notices.jsx'
import { useCheckoutChoices } from '../hooks/useCheckoutChoices.js'
import { usePageTitle } from '../hooks/usePageTitle.js'
import { useLoad } from '../hooks/useLoad.js'
import { activateSubscription, createSubscription, listPlans } from '../lib/api.js'
import { registerCard } from '../lib/billing.js'
import { formatMoney, perInterval } from '../lib/format.js'
import { loadGatewaySdk } from '../lib/gateways.js'
import { t } from '../lib/i18n.js'
import { cardErrorText, errorText } from '../lib/messages.js'
import { subscriptionPath } from '../lib/paths.js'

export default function SubscribePage() {
  usePageTitle(t('subscribe.title'))
  return (
    <>
      <h1>{t('subscribe.title')}</h1>
      <ConfigGate>{(config) => <Subscribe config={config} />}</ConfigGate>
    </>
  )
}

async function loadPlans() {
  return (await listPlans()).plans || []
}

function Subscribe({ config }) {
  const navigate = useNavigate()
  const { data: plans, error: plansError, loading: plansLoading, reload } = useLoad(loadPlans)
  const { vendors, vendor, setVendor, buyer, setBuyer } = useCheckoutChoices(config)

  const [planId, setPlanId] = useState(null)
  const [busy, setBusy] = useState(false)
  const [progress, setProgress] = useState('')
  const [error, setError] = useState(null)

  const chosenId = planId ?? plans?.[0]?.id ?? null
  const plan = plans?.find((p) => p.id === chosenId) || null

  async function subscribe(event) {
    event.preventDefault()
    setError(null)
    setBusy(true)
    const vendorConfig = config.vendors[vendor]
    let subscription = null
    try {
      setProgress(t('subscribe.creating'))
      await loadGatewaySdk(vendor, vendorConfig) // before the subscription exists, if the gateway is down
      subscription = await createSubscription({ planId: chosenId, vendor, buyer })
      const { setup } = subscription

      setProgress(t('subscribe.waiting'))
      const card = await registerCard({
        vendor,
        vendorConfig,
        setup,
        subscriptionId: subscription.subscription_id,
        buyer,
      })
      if (card.redirected) return
      if (card.failure) {
        setError({ text: cardErrorText(card.failure), subscriptionId: subscription.subscription_id })
        return
      }

      setProgress(t('subscribe.starting'))
      const active = await activateSubscription(subscription.subscription_id, card.proof)
      navigate(subscriptionPath(active.subscription_id))
    } catch (err) {
      setError({ text: cardErrorText(err), subscriptionId: subscription?.subscription_id })
    } finally {
      setBusy(false)
      setProgress('')
    }
  }

  // A reload after a failure shows "Loading plans…" again, not the old error.
  if (plansError && !plansLoading) {
    return <ErrorNotice text={errorText(plansError)} onRetry={reload} />
  }
  if (!plans) return <p role="status">{t('subscribe.loadingPlans')}</p>

  return (
    <form onSubmit={subscribe} className="subscribe card">
      {plans.length === 0 ? (
        <p className="muted">{t('subscribe.noPlans')}</p>
      ) : (
        <fieldset>
          <legend>{t('subscribe.plan')}</legend>
          <div className="plans">
            {plans.map((p) => (
              <RadioChoice
                key={p.id}
                className="choice plan"
                name="plan"
                value={p.id}
                checked={chosenId === p.id}
                onSelect={() => setPlanId(p.id)}
              >
                <span className="plan-name">{p.name}</span>
                <span className="plan-price">
                  {formatMoney(p.amount, p.currency)} {perInterval(p.interval)}
                </span>
              </RadioChoice>
            ))}
          </div>
        </fieldset>
      )}

      <GatewayFieldset vendors={vendors} vendor={vendor} onChange={setVendor} />

      <BuyerFields buyer={buyer} onChange={setBuyer} />

      {plan && (
        <p className="muted small" id="subscribe-terms">
          {t('subscribe.terms', {
            interval: plan.interval,
            amount: formatMoney(plan.amount, plan.currency),
            every: perInterval(plan.interval),
          })}
        </p>
      )}

      <button
        type="submit"
        className="primary"
        disabled={busy || !plan || vendors.length === 0}
        aria-describedby={plan ? 'subscribe-terms' : undefined}
      >
        {t('subscribe.submit')}
      </button>

      {progress && <Progress>{progress}</Progress>}
      {error && (
        <ErrorNotice text={error.text}>
          {error.subscriptionId && (
            <p>
              <SubscriptionLink subscriptionId={error.subscriptionId} />
            </p>
          )}
        </ErrorNotice>
      )}
    </form>
  )
}
