// The owner's refund form: what it checks before anything is sent.
import { t } from './i18n.js'

/** The refund account as the backend takes it, or the text of what is missing. */
export function checkRefundAccount({ bank, account, holder }) {
  if (!bank) return { error: t('refund.needBank') }
  const number = account.trim()
  const digits = number.replace(/-/g, '').length
  if (!/^\d+(-\d+)*$/.test(number) || digits < 6 || digits > 20) {
    return { error: t('refund.needAccount') }
  }
  if (!holder.trim()) return { error: t('refund.needHolder') }
  return { account: { bank, account: number, holder: holder.trim() } }
}
