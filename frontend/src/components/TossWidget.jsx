// Toss's payment widget (v2 SDK widgets()): the payment methods and the agreement, rendered by
// Toss into two boxes of the checkout; the shop hands the rendered widgets to its Pay button.
import { useEffect, useRef, useState } from 'react'
import { ANONYMOUS } from '@tosspayments/tosspayments-sdk'
import { toMajorNumber } from '../lib/format.js'
import { t } from '../lib/i18n.js'
import { errorText } from '../lib/messages.js'
import { tossV2 } from '../lib/toss.js'
import { ErrorNotice } from './notices.jsx'

const METHODS_ID = 'toss-payment-methods'
const AGREEMENT_ID = 'toss-agreement'

/**
 * Render the widget for `amount` (minor units of `currency`); `onReady({widgets, methods})` once
 * both parts are shown, `onReady(null)` when they are gone. Remount it for another currency.
 */
export function TossWidget({ vendor, amount, currency, onReady }) {
  const [error, setError] = useState(null)
  const widgetsRef = useRef(null)
  const amountRef = useRef({ currency, value: toMajorNumber(amount, currency) })

  useEffect(() => {
    let gone = false
    let rendered = []
    async function render() {
      const toss = await tossV2(vendor, vendor.widget_client_key)
      if (gone) return
      const widgets = toss.widgets({ customerKey: ANONYMOUS })
      await widgets.setAmount(amountRef.current)
      if (gone) return
      rendered = await Promise.all([
        widgets.renderPaymentMethods({ selector: `#${METHODS_ID}`, variantKey: 'DEFAULT' }),
        widgets.renderAgreement({ selector: `#${AGREEMENT_ID}`, variantKey: 'AGREEMENT' }),
      ])
      if (gone) {
        rendered.forEach((part) => part.destroy())
        return
      }
      widgetsRef.current = widgets
      onReady({ widgets, methods: rendered[0] })
    }
    render().catch((err) => !gone && setError(err))
    return () => {
      gone = true
      widgetsRef.current = null
      rendered.forEach((part) => part.destroy())
      onReady(null)
    }
  }, [vendor, onReady])

  useEffect(() => {
    // The total changed with the cart: the widget shows (and later asks) the new amount.
    amountRef.current = { currency, value: toMajorNumber(amount, currency) }
    widgetsRef.current?.setAmount(amountRef.current)
  }, [amount, currency])

  return (
    <section aria-label={t('shop.tossWidget')} className="toss-widget">
      <div id={METHODS_ID} />
      <div id={AGREEMENT_ID} />
      {error && <ErrorNotice text={errorText(error)} />}
    </section>
  )
}
