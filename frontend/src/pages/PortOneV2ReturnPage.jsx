import { useNavigate, useSearchParams } from 'react-router-dom'
import { BackToProducts } from '../components/links.jsx'
import { ErrorNotice } from '../components/notices.jsx'
import { PaymentFailure } from '../components/PaymentFailure.jsx'
import { useOnceRequest } from '../hooks/useOnceRequest.js'
import { usePageTitle } from '../hooks/usePageTitle.js'
import { completePayment, getOrder } from '../lib/api.js'
import { t } from '../lib/i18n.js'
import { errorText } from '../lib/messages.js'
import { orderPath } from '../lib/paths.js'
import { askedAmountV2 } from '../lib/portone.js'

async function complete(orderId) {
  // The window was asked for this amount before the page left (the tamper demo included).
  const amount = askedAmountV2(orderId) ?? (await getOrder(orderId)).amount
  return completePayment({ orderId, vendor: 'portone', paymentId: orderId, amount })
}

/**
 * PortOne V2's redirectUrl: on a phone the window comes back here with paymentId, txId (and
 * code, message, pgCode, pgMessage on failure) instead of resolving the promise.
 */
export default function PortOneV2ReturnPage() {
  const [params] = useSearchParams()
  const orderId = params.get('paymentId') // our payment ids are our order ids
  const code = params.get('code')
  if (orderId && code) {
    return (
      <PaymentFailure
        orderId={orderId}
        code={params.get('pgCode') || code}
        message={params.get('pgMessage') || params.get('message') || ''}
      />
    )
  }
  return <Completion orderId={orderId} />
}

function Completion({ orderId }) {
  const navigate = useNavigate()
  const { error, retry, retryable } = useOnceRequest(orderId || null, () => complete(orderId), {
    onDone: () => navigate(orderPath(orderId), { replace: true }),
    onError: (err) => {
      if (err.code !== 'AMOUNT_MISMATCH') return false
      navigate(orderPath(orderId), {
        replace: true,
        state: { error: { code: err.code, message: err.message } },
      })
      return true
    },
  })
  usePageTitle(!orderId || error ? t('toss.notCompleted') : t('toss.confirmingTitle'))

  if (!orderId || error) {
    return (
      <>
        <h1>{t('toss.notCompleted')}</h1>
        <ErrorNotice
          text={orderId ? errorText(error) : t('portone.missing')}
          onRetry={retryable ? retry : null}
        />
        <BackToProducts orderId={orderId} />
      </>
    )
  }
  return (
    <>
      <h1>{t('toss.confirmingTitle')}</h1>
      <p role="status" className="progress">
        {t('toss.confirming')}
      </p>
    </>
  )
}
