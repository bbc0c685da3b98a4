// The owner's admin token (kept in localStorage), asked for outside local mode.
import { useState } from 'react'
import { getAdminToken, setAdminToken } from '../lib/api.js'
import { t } from '../lib/i18n.js'

export default function TokenForm({ onSaved }) {
  const [token, setToken] = useState(getAdminToken)

  function save(event) {
    event.preventDefault()
    setAdminToken(token.trim())
    onSaved()
  }

  return (
    <form onSubmit={save} className="row token-form">
      <label>
        {t('admin.token')}
        <input
          type="password"
          autoComplete="off"
          value={token}
          onChange={(e) => setToken(e.target.value)}
        />
      </label>
      <button type="submit">{t('admin.saveToken')}</button>
    </form>
  )
}
