// The backend's /api/checkout/config, loaded once for the whole app.
import { createContext, useContext, useEffect, useState } from 'react'
import { getConfig } from './api.js'
import { setCurrencies } from './format.js'

const ConfigContext = createContext(null)

export function ConfigProvider({ children }) {
  const [state, setState] = useState({ config: null, error: null, loading: true })
  const [attempt, setAttempt] = useState(0)

  useEffect(() => {
    let active = true
    getConfig().then(
      (config) => {
        if (!active) return
        setCurrencies(config.currencies)
        setState({ config, error: null, loading: false })
      },
      (error) => active && setState({ config: null, error, loading: false }),
    )
    return () => {
      active = false
    }
  }, [attempt])

  function reload() {
    setState({ config: null, error: null, loading: true })
    setAttempt((n) => n + 1)
  }

  return <ConfigContext.Provider value={{ ...state, reload }}>{children}</ConfigContext.Provider>
}

export function useConfig() {
  return useContext(ConfigContext)
}

/** What a page shows instead of itself while the config loads or when it cannot. */
export function ConfigGate({ children }) {
  const { config, error, loading, reload } = useConfig()
  if (loading) return <p role="status">Loading…</p>
  if (error || !config) {
    return (
      <div role="alert" className="notice notice-error">
        <p>
          <strong>Cannot reach the payment service.</strong> The shop needs the backend at /api;
          please try again in a moment.
        </p>
        <button type="button" onClick={reload}>
          Try again
        </button>
      </div>
    )
  }
  return children(config)
}
