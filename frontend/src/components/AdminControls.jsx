// What the owner's pages share: the admin token, Refresh, and the error of the last load.
import { errorText } from '../lib/messages.js'
import { ErrorNotice } from './notices.jsx'
import TokenForm from './TokenForm.jsx'
import { t } from '../lib/i18n.js'

/** The token form (outside local mode), the Refresh button and the last load's error. */
export function AdminControls({ config, loading, error, onRefresh }) {
  return (
    <>
      {config.mode !== 'local' && <TokenForm onSaved={onRefresh} />}
      <p>
        <button type="button" onClick={onRefresh} disabled={loading}>
          {t('admin.refresh')}
        </button>
      </p>
      {error && <ErrorNotice text={errorText(error)} />}
    </>
  )
}
