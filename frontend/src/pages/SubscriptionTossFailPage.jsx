import { useSearchParams } from 'react-router-dom'
import { BackToPlans } from '../components/links.jsx'
import { ErrorNotice } from '../components/notices.jsx'
import { cardErrorText } from '../lib/messages.js'

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
      <ErrorNotice text={cardErrorText({ code, message })} />
      <BackToPlans subscriptionId={subscriptionId} />
    </>
  )
}
