// Data a component loads when it mounts and again on reload().
import { useCallback, useEffect, useEffectEvent, useState } from 'react'

/**
 * Call `load()` (a promise) on mount and on every reload(). An answer replaces `data` and clears
 * `error`; a failure sets `error` and keeps the last data, so that a failed refresh still shows
 * it. `setData` changes the data in place (a row updated by an action, a poll's answer).
 */
export function useLoad(load) {
  const [state, setState] = useState({ data: null, error: null, loading: true })
  const [attempt, setAttempt] = useState(0)
  const start = useEffectEvent(load)

  useEffect(() => {
    let active = true
    start().then(
      (data) => active && setState({ data, error: null, loading: false }),
      (error) => active && setState((s) => ({ ...s, error, loading: false })),
    )
    return () => {
      active = false
    }
  }, [attempt])

  const reload = useCallback(() => {
    setState((s) => ({ ...s, loading: true }))
    setAttempt((n) => n + 1)
  }, [])

  const setData = useCallback((update) => {
    setState((s) => ({ ...s, data: typeof update === 'function' ? update(s.data) : update }))
  }, [])

  return { ...state, reload, setData }
}
