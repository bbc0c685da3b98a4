// The gateway and buyer chosen in the shop's checkout and the subscribe form.
import { useEffect, useState } from 'react'
import { loadGatewaySdk } from '../lib/gateways.js'
import { getLanguage, t } from '../lib/i18n.js'
import { VENDORS } from '../lib/messages.js'

// The demo's buyer: 홍길동 with a test phone number (PGs require buyer_tel).
const DEFAULT_NAMES = ['홍길동', 'Hong Gildong']
const defaultBuyer = () => ({
  name: t('shop.defaultBuyer'),
  email: 'buyer@example.com',
  tel: '010-1234-5678',
})

/**
 * The gateways of the config that the demo knows, the one chosen and the buyer. Loads every
 * SDK early, so that the vendor's window opens soon after the click.
 */
export function useCheckoutChoices(config) {
  // PortOne V2 is offered when the backend has its settings (always outside real mode).
  const vendors = VENDORS.filter((v) => config.vendors?.[v] && config.vendors[v].enabled !== false)
  const [vendor, setVendor] = useState(vendors[0] || 'iamport')
  const [buyer, setBuyer] = useState(defaultBuyer)
  const [lang, setLang] = useState(getLanguage)
  // The untouched default buyer follows a switch of language (홍길동 <-> Hong Gildong).
  if (lang !== getLanguage()) {
    setLang(getLanguage())
    setBuyer((b) => (DEFAULT_NAMES.includes(b.name) ? { ...b, name: t('shop.defaultBuyer') } : b))
  }

  useEffect(() => {
    for (const [v, c] of Object.entries(config.vendors || {})) {
      if (c.enabled !== false) loadGatewaySdk(v, c).catch(() => {})
    }
  }, [config])

  return { vendors, vendor, setVendor, buyer, setBuyer }
}
