import { Link, useSearchParams } from 'react-router-dom'
import { cardErrorText } from '../messages.js'

/** Toss's billing-auth failUrl: the card was not registered (declined, or the window closed). */
export default function SubscriptionTossFailPage() {
  const [params] = useSearchParams()
  const code = params.get('code') || 'BILLING_AUTH_FAILED'
  const message = params.get('message') || 'The card was not registered.'
  const subscriptionId = params.get('subscription_id')
  const replacing = params.get('action') === 'card'

  return (
    <>
      <h1>{replacing ? 'Card not replaced' : 'Card registration failed'}</h1>
      <div role="alert" className="notice notice-error">
        <p>{cardErrorText({ code, message })}</p>
      </div>
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
    </>
  )
}
