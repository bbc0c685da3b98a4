// The backend's /api/checkout/config, loaded once for the whole app.
import { useConfig } from '../hooks/useConfig.js'
import { useLoad } from '../hooks/useLoad.js'
import { ConfigContext, loadConfig } from '../lib/config.js'
import { ErrorNotice } from './notices.jsx'
import { t } from '../lib/i18n.js'

export function ConfigProvider({ children }) {
  const { data: config, error, loading, reload } = useLoad(loadConfig)
  return (
    <ConfigContext.Provider value={{ config, error, loading, reload }}>
      {children}
    </ConfigContext.Provider>
  )
}

/** What a page shows instead of itself while the config loads or when it cannot. */
export function ConfigGate({ children }) {
  const { config, error, loading, reload } = useConfig()
  if (loading) return <p role="status">{t('common.loading')}</p>
  if (error || !config) {
    return (
      <ErrorNotice
        text={
          <>
            <strong>{t('config.unreachable')}</strong> {t('config.unreachableHint')}
          </>
        }
        onRetry={reload}
      />
    )
  }
  return children(config)
}
