import { useNavigate, useSearchParams } from 'react-router-dom'
import { BackToPlans } from '../components/links.jsx'
import { ErrorNotice } from '../components/notices.jsx'
import { useOnceRequest } from '../hooks/useOnceRequest.js'
import { activateSubscription, confirmCardReplacement, getSubscription } from '../lib/api.js'
import { cardErrorText, cardReplacedText } from '../lib/messages.js'
import { subscriptionPath } from '../lib/paths.js'

async function confirm(subscriptionId, action, proof) {
  if (action !== 'card') {
    return { subscription: await activateSubscription(subscriptionId, proof), notice: null }
  }
  const before = await getSubscription(subscriptionId)
  const updated = await confirmCardReplacement(subscriptionId, proof)
  return { subscription: updated, notice: cardReplacedText(before.status === 'past_due', updated) }
}

/** Toss's billing-auth successUrl: activates the subscription (or confirms a new card). */
export default function SubscriptionTossSuccessPage() {
  const [params] = useSearchParams()
  const navigate = useNavigate()
  const subscriptionId = params.get('subscription_id')
  const customerKey = params.get('customerKey')
  const authKey = params.get('authKey')
  const action = params.get('action') === 'card' ? 'card' : 'subscribe'
  const missing = !subscriptionId || !customerKey || !authKey
  const { error, retry, retryable } = useOnceRequest(
    missing ? null : authKey,
    () => confirm(subscriptionId, action, { auth_key: authKey, customer_key: customerKey }),
    {
      onDone: ({ notice }) =>
        navigate(subscriptionPath(subscriptionId), {
          replace: true,
          state: notice ? { notice } : null,
        }),
    },
  )

  const failedHeading = action === 'card' ? 'Card not replaced' : 'Subscription not started'

  if (missing) {
    return (
      <>
        <h1>{failedHeading}</h1>
        <ErrorNotice
          text="The card window came back without subscription_id, customerKey or authKey."
        />
        <BackToPlans subscriptionId={subscriptionId} />
      </>
    )
  }

  if (error) {
    return (
      <>
        <h1>{failedHeading}</h1>
        <ErrorNotice text={cardErrorText(error)} onRetry={retryable ? retry : null} />
        <BackToPlans subscriptionId={subscriptionId} />
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
