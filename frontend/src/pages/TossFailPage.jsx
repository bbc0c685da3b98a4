import { useSearchParams } from 'react-router-dom'
import { PaymentFailure } from '../components/PaymentFailure.jsx'

/** Toss's failUrl: the window reports code, message and orderId. */
export default function TossFailPage() {
  const [params] = useSearchParams()
  return (
    <PaymentFailure
      orderId={params.get('orderId')}
      code={params.get('code') || 'PAYMENT_FAILED'}
      message={params.get('message') || ''}
    />
  )
}
