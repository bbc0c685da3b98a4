// Card registration for a subscription (new subscription or new card): one path for both
// vendors' billing-key windows.
import { registerCardWithPortOne, registerCardWithToss } from './gateways.js'
import { registerCardWithPortOneV2 } from './portone.js'

/**
 * Open `vendor`'s billing-key window for a subscription's `setup` and answer one of:
 * - `{ proof }`: what to send to /activate or /card/confirm (PortOne V1: `{imp_uid}`, PortOne V2:
 *   `{billing_key}`);
 * - `{ failure: {code, message} }`: the window refused the card or was closed;
 * - `{ redirected: true }`: the window sends the browser to /subscriptions/toss/success or
 *   /fail (Toss), whose page finishes the job; `action: 'card'` marks a card replacement there.
 * A thrown error means the window could not open (SDK not loaded, gateway down).
 */
export async function registerCard({ vendor, vendorConfig, setup, subscriptionId, buyer = {}, action }) {
  if (vendor === 'toss') {
    await registerCardWithToss(vendorConfig, setup, subscriptionId, { buyer, action })
    return { redirected: true }
  }
  if (vendor === 'portone') {
    const issued = await registerCardWithPortOneV2(vendorConfig, setup, buyer)
    if (!issued.ok) return { failure: { code: issued.code, message: issued.message } }
    return { proof: { billing_key: issued.billingKey } }
  }
  const answer = await registerCardWithPortOne(vendorConfig, setup, buyer)
  if (!answer.ok) return { failure: { code: answer.code, message: answer.message } }
  return { proof: { imp_uid: answer.paymentId } }
}
