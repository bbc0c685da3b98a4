// What the shop's checkout and the subscribe form both ask: the gateway and the buyer.
import { useEffect, useState } from 'react'
import { loadScript } from './gateways.js'
import { VENDOR_NAMES } from './messages.js'

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

/** A radio button inside its label; other props go to the <input>. */
export function RadioChoice({
  name,
  value,
  checked,
  onSelect,
  className = 'choice',
  children,
  ...input
}) {
  return (
    <label className={className}>
      <input
        type="radio"
        name={name}
        value={value}
        checked={checked}
        onChange={onSelect}
        {...input}
      />
      {children}
    </label>
  )
}

export function GatewayFieldset({ vendors, vendor, onChange }) {
  return (
    <fieldset>
      <legend>Gateway</legend>
      {vendors.map((v) => (
        <RadioChoice
          key={v}
          name="vendor"
          value={v}
          checked={vendor === v}
          onSelect={() => onChange(v)}
        >
          {VENDOR_NAMES[v]}
        </RadioChoice>
      ))}
    </fieldset>
  )
}

export function BuyerFields({ buyer, onChange }) {
  return (
    <div className="fields">
      <label>
        Buyer name
        <input
          value={buyer.name}
          autoComplete="name"
          onChange={(e) => onChange({ ...buyer, name: e.target.value })}
        />
      </label>
      <label>
        Buyer email
        <input
          type="email"
          value={buyer.email}
          autoComplete="email"
          onChange={(e) => onChange({ ...buyer, email: e.target.value })}
        />
      </label>
    </div>
  )
}
