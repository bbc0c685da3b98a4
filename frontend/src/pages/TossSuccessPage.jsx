import { useNavigate, useSearchParams } from 'react-router-dom'
import { BackToProducts } from '../components/links.jsx'
import { ErrorNotice } from '../components/notices.jsx'
import { useOnceRequest } from '../hooks/useOnceRequest.js'
import { completePayment, getOrder } from '../lib/api.js'
import { toMinor } from '../lib/format.js'
import { usePageTitle } from '../hooks/usePageTitle.js'
import { t } from '../lib/i18n.js'
import { errorText } from '../lib/messages.js'
import { orderPath } from '../lib/paths.js'

async function complete(paymentKey, orderId, amountText) {
  // Toss sends the amount in major units (USD: dollars); the order says which currency.
  const order = await getOrder(orderId)
  const amount = toMinor(amountText, order.currency)
  if (amount === null) {
    throw Object.assign(new Error(`The payment window returned an invalid amount: ${amountText}`), {
      code: 'INVALID_AMOUNT',
    })
  }
  return completePayment({ orderId, vendor: 'toss', paymentId: paymentKey, amount })
}

export default function TossSuccessPage() {
  const [params] = useSearchParams()
  const navigate = useNavigate()
  const paymentKey = params.get('paymentKey')
  const orderId = params.get('orderId')
  const amountText = params.get('amount')
  const missing = !paymentKey || !orderId || !amountText
  const { error, retry, retryable } = useOnceRequest(
    missing ? null : paymentKey,
    () => complete(paymentKey, orderId, amountText),
    {
      onDone: () => navigate(orderPath(orderId), { replace: true }),
      onError: (err) => {
        if (err.code !== 'AMOUNT_MISMATCH') return false
        navigate(orderPath(orderId), {
          replace: true,
          state: { error: { code: err.code, message: err.message } },
        })
        return true
      },
    },
  )

  const failed = missing || error
  usePageTitle(failed ? t('toss.notCompleted') : t('toss.confirmingTitle'))

  if (missing) {
    return (
      <>
        <h1>{t('toss.notCompleted')}</h1>
        <ErrorNotice text={t('toss.missing')} />
        <BackToProducts />
      </>
    )
  }

  if (error) {
    return (
      <>
        <h1>{t('toss.notCompleted')}</h1>
        <ErrorNotice text={errorText(error)} onRetry={retryable ? retry : null} />
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
