import { useEffect, useState } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router-dom'
import { completePayment, getOrder } from '../api.js'
import { toMinor } from '../format.js'
import { errorText } from '../messages.js'

// One request per paymentKey, so that React's StrictMode re-run of the effect reuses it.
const completions = new Map()

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

function completeOnce(paymentKey, orderId, amountText) {
  if (!completions.has(paymentKey)) {
    completions.set(paymentKey, complete(paymentKey, orderId, amountText))
  }
  return completions.get(paymentKey)
}

const RETRYABLE = new Set(['GATEWAY_UNAVAILABLE', 'SERVICE_UNREACHABLE', 'BAD_RESPONSE'])

export default function TossSuccessPage() {
  const [params] = useSearchParams()
  const navigate = useNavigate()
  const paymentKey = params.get('paymentKey')
  const orderId = params.get('orderId')
  const amountText = params.get('amount')
  const missing = !paymentKey || !orderId || !amountText
  const [error, setError] = useState(null)
  const [attempt, setAttempt] = useState(0)

  useEffect(() => {
    if (missing) return
    let active = true
    const orderPath = `/orders/${encodeURIComponent(orderId)}`
    completeOnce(paymentKey, orderId, amountText).then(
      () => active && navigate(orderPath, { replace: true }),
      (err) => {
        if (!active) return
        if (err.code === 'AMOUNT_MISMATCH') {
          navigate(orderPath, {
            replace: true,
            state: { error: { code: err.code, message: err.message } },
          })
        } else {
          setError(err)
        }
      },
    )
    return () => {
      active = false
    }
  }, [missing, paymentKey, orderId, amountText, attempt, navigate])

  function retry() {
    completions.delete(paymentKey)
    setError(null)
    setAttempt((n) => n + 1)
  }

  if (missing) {
    return (
      <>
        <h1>Payment not completed</h1>
        <div role="alert" className="notice notice-error">
          <p>The payment window came back without paymentKey, orderId or amount.</p>
        </div>
        <p>
          <Link to="/">Back to products</Link>
        </p>
      </>
    )
  }

  if (error) {
    const canRetry = RETRYABLE.has(error.code) || error.status >= 500
    return (
      <>
        <h1>Payment not completed</h1>
        <div role="alert" className="notice notice-error">
          <p>{errorText(error)}</p>
          {canRetry && (
            <button type="button" onClick={retry}>
              Try again
            </button>
          )}
        </div>
        <p>
          <Link to={`/orders/${encodeURIComponent(orderId)}`}>View order {orderId}</Link>
          {' · '}
          <Link to="/">Back to products</Link>
        </p>
      </>
    )
  }

  return (
    <>
      <h1>Confirming payment</h1>
      <p role="status" className="progress">
        Confirming payment…
      </p>
    </>
  )
}
