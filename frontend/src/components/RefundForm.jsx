// The owner's refund of one order: amount (empty: the rest) and reason, the buyer's bank account
// for a deposited virtual account, and a confirmation ("56,000원을 환불할까요?") before anything
// is sent.
import { useState } from 'react'
import { refundOrder } from '../lib/api.js'
import { bankChoices } from '../lib/codes.js'
import { exponentOf, formatMoney, toDecimalString, toMinor } from '../lib/format.js'
import { t } from '../lib/i18n.js'
import { errorText } from '../lib/messages.js'
import { checkRefundAccount } from '../lib/refunds.js'
import { Outcome } from './notices.jsx'

const NO_ACCOUNT = { bank: '', account: '', holder: '' }

function newIdempotencyKey() {
  // randomUUID exists only in secure contexts (https or localhost).
  return crypto.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`
}

export function RefundForm({ order, onChange }) {
  const [amountText, setAmountText] = useState('')
  const [reason, setReason] = useState('')
  const [account, setAccount] = useState(NO_ACCOUNT)
  const [pending, setPending] = useState(null) // the refund awaiting the owner's yes
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState(null)
  const money = (amount) => formatMoney(amount, order.currency)
  const exponent = exponentOf(order.currency)
  const remaining = toDecimalString(order.refundable, order.currency)
  const needsAccount = order.method === 'vbank'
  const id = order.order_id

  function ask(event) {
    event.preventDefault()
    setResult(null)
    let amount
    if (amountText.trim() !== '') {
      amount = toMinor(amountText, order.currency)
      if (!amount) {
        setResult({ error: t('refund.badAmount', { remaining }) })
        return
      }
    }
    let refundAccount
    if (needsAccount) {
      const checked = checkRefundAccount(account)
      if (checked.error) {
        setResult({ error: checked.error })
        return
      }
      refundAccount = checked.account
    }
    setPending({ amount, refundAccount, reason: reason.trim() || t('refund.defaultReason') })
  }

  async function send() {
    setBusy(true)
    try {
      const updated = await refundOrder(id, pending, newIdempotencyKey())
      // A bank transfer back to the buyer is paid out later: sent, not refunded yet.
      const sent = (updated.refund_pending ?? 0) - (order.refund_pending ?? 0)
      setResult({
        ok: t(sent > 0 ? 'refund.sent' : 'refund.done', {
          amount: money(sent > 0 ? sent : updated.refunded - order.refunded),
          remaining: money(updated.refundable),
        }),
      })
      setAmountText('')
      setReason('')
      setAccount(NO_ACCOUNT)
      onChange(updated)
    } catch (err) {
      const left = err.body?.remaining
      setResult({
        error:
          err.code === 'OVER_REFUND' && left !== undefined
            ? t('refund.over', { remaining: money(left) })
            : errorText(err),
      })
    } finally {
      setBusy(false)
      setPending(null)
    }
  }

  if (order.refundable <= 0 && !result) return null

  return (
    <form onSubmit={ask} className="refund-form">
      {order.refundable > 0 && (
        <>
          <label>
            {t('refund.amount')}
            <input
              type="number"
              inputMode="decimal"
              min="0"
              step={exponent === 0 ? '1' : String(10 ** -exponent)}
              placeholder={remaining}
              value={amountText}
              onChange={(e) => setAmountText(e.target.value)}
              aria-describedby={`refund-hint-${id}`}
            />
          </label>
          <label>
            {t('refund.reason')}
            <input value={reason} onChange={(e) => setReason(e.target.value)} />
          </label>
          {needsAccount && (
            <AccountFields vendor={order.vendor} account={account} onChange={setAccount} />
          )}
          <button type="submit" disabled={busy || pending !== null}>
            {t('refund.submit')}
          </button>
          <span id={`refund-hint-${id}`} className="hint muted small">
            {t('refund.hint', { currency: order.currency })}
          </span>
        </>
      )}
      {pending && (
        <div role="alertdialog" aria-label={t('refund.submit')} className="confirm-refund">
          <p>{t('refund.confirm', { amount: money(pending.amount ?? order.refundable) })}</p>
          <button type="button" className="danger solid" onClick={send} disabled={busy}>
            {t('refund.yes')}
          </button>
          <button type="button" onClick={() => setPending(null)} disabled={busy}>
            {t('refund.no')}
          </button>
        </div>
      )}
      <Outcome ok={result?.ok} error={result?.error} />
    </form>
  )
}

function AccountFields({ vendor, account, onChange }) {
  const set = (field) => (e) => onChange({ ...account, [field]: e.target.value })
  return (
    <fieldset className="refund-account">
      <legend>{t('refund.account')}</legend>
      <label>
        {t('refund.bank')}
        <select value={account.bank} onChange={set('bank')}>
          <option value="">{t('refund.chooseBank')}</option>
          {bankChoices(vendor).map(([code, name]) => (
            <option key={code} value={code}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('refund.accountNumber')}
        <input
          value={account.account}
          inputMode="numeric"
          autoComplete="off"
          onChange={set('account')}
        />
      </label>
      <label>
        {t('refund.holder')}
        <input value={account.holder} autoComplete="off" onChange={set('holder')} />
      </label>
    </fieldset>
  )
}
