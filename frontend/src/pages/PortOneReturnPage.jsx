import { useNavigate, useSearchParams } from 'react-router-dom'
import { BackToProducts } from '../components/links.jsx'
import { ErrorNotice } from '../components/notices.jsx'
import { PaymentFailure } from '../components/PaymentFailure.jsx'
import { useOnceRequest } from '../hooks/useOnceRequest.js'
import { usePageTitle } from '../hooks/usePageTitle.js'
import { completePayment, getOrder } from '../lib/api.js'
import { askedAmount } from '../lib/gateways.js'
import { t } from '../lib/i18n.js'
import { errorText } from '../lib/messages.js'
import { orderPath } from '../lib/paths.js'

async function complete(impUid, orderId) {
  // The window was asked for this amount before the page left (the tamper demo included).
  const amount = askedAmount(orderId) ?? (await getOrder(orderId)).amount
  return completePayment({ orderId, vendor: 'iamport', paymentId: impUid, amount })
}

/**
 * PortOne's m_redirect_url: on a phone the payment window comes back here with imp_uid and
 * merchant_uid (and error_code, error_msg on failure) instead of a callback.
 */
export default function PortOneReturnPage() {
  const [params] = useSearchParams()
  const impUid = params.get('imp_uid')
  const orderId = params.get('merchant_uid')
  // A failure is an error_code (imp_success and success are deprecated and often absent).
  if (orderId && (params.get('error_code') || !impUid)) {
    return (
      <PaymentFailure
        orderId={orderId}
        code={params.get('error_code') || 'PAYMENT_FAILED'}
        message={params.get('error_msg') || ''}
      />
    )
  }
  return <Completion impUid={impUid} orderId={orderId} />
}

function Completion({ impUid, orderId }) {
  const navigate = useNavigate()
  const missing = !impUid || !orderId
  const { error, retry, retryable } = useOnceRequest(
    missing ? null : impUid,
    () => complete(impUid, orderId),
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
  usePageTitle(missing || error ? t('toss.notCompleted') : t('toss.confirmingTitle'))

  if (missing || error) {
    return (
      <>
        <h1>{t('toss.notCompleted')}</h1>
        <ErrorNotice
          text={missing ? t('portone.missing') : errorText(error)}
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
