// What the shop's checkout and the subscribe form both ask: the gateway and the buyer
// (their state: hooks/useCheckoutChoices.js).
import { VENDOR_NAMES } from '../lib/messages.js'

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
