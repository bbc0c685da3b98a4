// The gateway and buyer chosen in the shop's checkout and the subscribe form.
import { useEffect, useState } from 'react'
import { loadScript } from '../lib/gateways.js'
import { VENDOR_NAMES } from '../lib/messages.js'

const DEFAULT_BUYER = { name: 'Hong Gildong', email: 'buyer@example.com' }

/**
 * The gateways of the config that the demo knows, the one chosen and the buyer. Loads every
 * SDK early, so that the vendor's window opens soon after the click.
 */
export function useCheckoutChoices(config) {
  const vendors = Object.keys(config.vendors || {}).filter((v) => VENDOR_NAMES[v])
  const [vendor, setVendor] = useState(vendors[0] || 'iamport')
  const [buyer, setBuyer] = useState(DEFAULT_BUYER)

  useEffect(() => {
    for (const v of Object.values(config.vendors || {})) loadScript(v.sdk_url).catch(() => {})
  }, [config])

  return { vendors, vendor, setVendor, buyer, setBuyer }
}
