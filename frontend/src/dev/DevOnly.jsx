// The gate of every dev-only control: nothing renders unless the backend's mode is not `real`.
import { useConfig } from '../hooks/useConfig.js'
import { devToolsEnabled } from '../lib/config.js'

export function DevOnly({ children }) {
  const { config } = useConfig()
  return devToolsEnabled(config) ? children : null
}
