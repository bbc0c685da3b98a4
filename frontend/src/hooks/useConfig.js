// The config of ConfigProvider: {config, error, loading, reload}.
import { useContext } from 'react'
import { ConfigContext } from '../lib/config.js'

export function useConfig() {
  return useContext(ConfigContext)
}
