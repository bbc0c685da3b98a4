// The one way a page polls the backend: the order awaiting its deposit, the subscription.
import { useEffect, useEffectEvent } from 'react'

/**
 * Call `poll(signal)` every `interval` ms while `enabled`, the next call only once the last has
 * settled (a slow backend is never asked twice at once); `immediate` makes the first call at once.
 * `signal` is aborted when polling stops (unmount, disabled): check it before using an answer.
 * `poll` returning false stops polling; a thrown error is a missed poll, retried on the next tick.
 */
export function usePolling(poll, { interval, enabled = true, immediate = false }) {
  const run = useEffectEvent(poll)

  useEffect(() => {
    if (!enabled) return
    const controller = new AbortController()
    let timer = null
    async function tick() {
      let again = true
      try {
        again = (await run(controller.signal)) !== false
      } catch {
        // a missed poll: the next tick asks again
      }
      if (again && !controller.signal.aborted) timer = setTimeout(tick, interval)
    }
    if (immediate) tick()
    else timer = setTimeout(tick, interval)
    return () => {
      controller.abort()
      clearTimeout(timer)
    }
  }, [enabled, interval, immediate])
}
