import { useEffect } from 'react'
import { useSearchParams } from 'react-router-dom'
import { BackToProducts } from '../components/links.jsx'
import { ErrorNotice } from '../components/notices.jsx'
import { failOrder } from '../lib/api.js'
import { errorText } from '../lib/messages.js'

// Report each failure once, even when React's StrictMode runs the effect twice.
const reported = new Set()

export default function TossFailPage() {
  const [params] = useSearchParams()
  const code = params.get('code') || 'PAYMENT_FAILED'
  const message = params.get('message') || 'The payment did not go through.'
  const orderId = params.get('orderId')

  useEffect(() => {
    const key = `${orderId} ${code}`
    if (!orderId || reported.has(key)) return
    reported.add(key)
    failOrder(orderId, { code, message }).catch(() => {
      // Only a record of what the buyer saw; the order stays pending if this does not arrive.
    })
  }, [orderId, code, message])

  return (
    <>
      <h1>Payment failed</h1>
      <ErrorNotice text={errorText({ code, message })} />
      <BackToProducts orderId={orderId} />
    </>
  )
}
