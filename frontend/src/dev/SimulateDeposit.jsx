// Test mode: the fake gateway pays a waiting virtual account, as a buyer's transfer would.
import { useState } from 'react'
import { ErrorNotice } from '../components/notices.jsx'
import { t } from '../lib/i18n.js'
import { errorText } from '../lib/messages.js'
import { simulateDeposit } from './api.js'

/** The "Simulate deposit" button; `onDeposited` gets the order the backend answers. */
export function SimulateDeposit({ orderId, onDeposited }) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState(null)

  async function deposit() {
    setBusy(true)
    setError(null)
    try {
      onDeposited(await simulateDeposit(orderId))
    } catch (err) {
      setError(errorText(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <>
      <button type="button" onClick={deposit} disabled={busy}>
        {t('deposit.simulate')}
      </button>
      {error && <ErrorNotice text={error} />}
    </>
  )
}
