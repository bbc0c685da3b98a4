import { useEffect, useState } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router-dom'
import { activateSubscription, confirmCardReplacement, getSubscription } from '../api.js'
import { cardErrorText, cardReplacedText } from '../messages.js'

// One request per authKey, so that React's StrictMode re-run of the effect reuses it.
const confirmations = new Map()

async function confirm(subscriptionId, action, proof) {
  if (action !== 'card') {
    return { subscription: await activateSubscription(subscriptionId, proof), notice: null }
  }
  const before = await getSubscription(subscriptionId)
  const updated = await confirmCardReplacement(subscriptionId, proof)
  return { subscription: updated, notice: cardReplacedText(before.status === 'past_due', updated) }
}

function confirmOnce(subscriptionId, action, proof) {
  if (!confirmations.has(proof.auth_key)) {
    confirmations.set(proof.auth_key, confirm(subscriptionId, action, proof))
  }
  return confirmations.get(proof.auth_key)
}

const RETRYABLE = new Set(['GATEWAY_UNAVAILABLE', 'SERVICE_UNREACHABLE', 'BAD_RESPONSE'])

/** Toss's billing-auth successUrl: activates the subscription (or confirms a new card). */
export default function SubscriptionTossSuccessPage() {
  const [params] = useSearchParams()
  const navigate = useNavigate()
  const subscriptionId = params.get('subscription_id')
  const customerKey = params.get('customerKey')
  const authKey = params.get('authKey')
  const action = params.get('action') === 'card' ? 'card' : 'subscribe'
  const missing = !subscriptionId || !customerKey || !authKey
  const [error, setError] = useState(null)
  const [attempt, setAttempt] = useState(0)

  useEffect(() => {
    if (missing) return
    let active = true
    const proof = { auth_key: authKey, customer_key: customerKey }
    confirmOnce(subscriptionId, action, proof).then(
      ({ notice }) =>
        active &&
        navigate(`/subscriptions/${encodeURIComponent(subscriptionId)}`, {
          replace: true,
          state: notice ? { notice } : null,
        }),
      (err) => active && setError(err),
    )
    return () => {
      active = false
    }
  }, [missing, subscriptionId, customerKey, authKey, action, attempt, navigate])

  function retry() {
    confirmations.delete(authKey)
    setError(null)
    setAttempt((n) => n + 1)
  }

  const failedHeading = action === 'card' ? 'Card not replaced' : 'Subscription not started'
  const links = (
    <p>
      {subscriptionId && (
        <>
          <Link to={`/subscriptions/${encodeURIComponent(subscriptionId)}`}>
            View subscription {subscriptionId}
          </Link>
          {' · '}
        </>
      )}
      <Link to="/subscribe">Back to plans</Link>
    </p>
  )

  if (missing) {
    return (
      <>
        <h1>{failedHeading}</h1>
        <div role="alert" className="notice notice-error">
          <p>The card window came back without subscription_id, customerKey or authKey.</p>
        </div>
        {links}
      </>
    )
  }

  if (error) {
    const canRetry = RETRYABLE.has(error.code) || error.status >= 500
    return (
      <>
        <h1>{failedHeading}</h1>
        <div role="alert" className="notice notice-error">
          <p>{cardErrorText(error)}</p>
          {canRetry && (
            <button type="button" onClick={retry}>
              Try again
            </button>
          )}
        </div>
        {links}
      </>
    )
  }

  const doing = action === 'card' ? 'Registering the new card…' : 'Starting the subscription…'
  return (
    <>
      <h1>{action === 'card' ? 'Replacing the card' : 'Starting the subscription'}</h1>
      <p role="status" className="progress">
        {doing}
      </p>
    </>
  )
}
