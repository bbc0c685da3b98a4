// What the shop's checkout and the subscribe form both ask: the gateway and the buyer
// (their state: hooks/useCheckoutChoices.js).
import { t } from '../lib/i18n.js'
import { vendorName } from '../lib/messages.js'

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
      <legend>{t('shop.gateway')}</legend>
      {vendors.map((v) => (
        <RadioChoice
          key={v}
          name="vendor"
          value={v}
          checked={vendor === v}
          onSelect={() => onChange(v)}
        >
          {vendorName(v)}
        </RadioChoice>
      ))}
    </fieldset>
  )
}

/** Name and email; with `withTel` the phone number PGs ask for (buyer_tel). */
export function BuyerFields({ buyer, onChange, withTel = false }) {
  return (
    <div className="fields">
      <label>
        {t('shop.buyerName')}
        <input
          value={buyer.name}
          autoComplete="name"
          onChange={(e) => onChange({ ...buyer, name: e.target.value })}
        />
      </label>
      <label>
        {t('shop.buyerEmail')}
        <input
          type="email"
          value={buyer.email}
          autoComplete="email"
          onChange={(e) => onChange({ ...buyer, email: e.target.value })}
        />
      </label>
      {withTel && (
        <label>
          {t('shop.buyerTel')}
          <input
            type="tel"
            value={buyer.tel}
            autoComplete="tel"
            inputMode="tel"
            onChange={(e) => onChange({ ...buyer, tel: e.target.value })}
          />
        </label>
      )}
    </div>
  )
}
