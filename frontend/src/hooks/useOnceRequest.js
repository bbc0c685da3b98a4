// The one request of a page that a gateway's window returns to (complete a payment, activate
// a subscription): sent once per key, however often the page renders or mounts.
import { useCallback, useEffect, useEffectEvent, useState } from 'react'

// One request per key (Toss's paymentKey, authKey), so that React's StrictMode re-run of the
// effect reuses it.
const requests = new Map()

const RETRYABLE = new Set(['GATEWAY_UNAVAILABLE', 'SERVICE_UNREACHABLE', 'BAD_RESPONSE'])

/**
 * Send `send()` once per `key` (nothing while the key is empty) and pass its answer to onDone.
 * A failure goes to onError when that returns true, else into `error`; `retryable` says whether
 * retry() may help.
 */
export function useOnceRequest(key, send, { onDone, onError = () => false }) {
  const [error, setError] = useState(null)
  const [attempt, setAttempt] = useState(0)
  const start = useEffectEvent(send)
  const succeed = useEffectEvent(onDone)
  const fail = useEffectEvent((err) => {
    if (!onError(err)) setError(err)
  })

  useEffect(() => {
    if (!key) return
    let active = true
    if (!requests.has(key)) requests.set(key, start())
    requests.get(key).then(
      (answer) => active && succeed(answer),
      (err) => active && fail(err),
    )
    return () => {
      active = false
    }
  }, [key, attempt])

  const retry = useCallback(() => {
    requests.delete(key)
    setError(null)
    setAttempt((n) => n + 1)
  }, [key])

  const retryable = error !== null && (RETRYABLE.has(error.code) || error.status >= 500)
  return { error, retry, retryable }
}
