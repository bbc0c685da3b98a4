// The backend's /api/checkout/config: loaded once for the whole app, shared through a context.
import { createContext } from 'react'
import { getConfig } from './api.js'
import { setCurrencies } from './format.js'

export const ConfigContext = createContext(null)

/** Fetch the config and adopt the currencies it announces. */
export async function loadConfig() {
  const config = await getConfig()
  setCurrencies(config.currencies)
  return config
}

/** Whether the dev-only controls (src/dev/) may show: only when the mode is not `real`. */
export const devToolsEnabled = (config) => Boolean(config?.mode) && config.mode !== 'real'
