// The links between the buyer's pages: an order or a subscription, and the way back.
import { Link } from 'react-router-dom'
import { orderPath, subscriptionPath } from '../lib/paths.js'
import { t } from '../lib/i18n.js'

export function OrderLink({ orderId }) {
  return <Link to={orderPath(orderId)}>{t('links.viewOrder', { id: orderId })}</Link>
}

export function SubscriptionLink({ subscriptionId }) {
  return <Link to={subscriptionPath(subscriptionId)}>
      {t('links.viewSubscription', { id: subscriptionId })}
    </Link>
}

/** The way back, after a link to the order or subscription when there is one. */
function BackLinks({ item, to, children }) {
  return (
    <p>
      {item && (
        <>
          {item}
          {' · '}
        </>
      )}
      <Link to={to}>{children}</Link>
    </p>
  )
}

/** "View order … · Back to products"; the order link only when there is an order id. */
export function BackToProducts({ orderId }) {
  return (
    <BackLinks item={orderId && <OrderLink orderId={orderId} />} to="/">
      {t('links.backToProducts')}
    </BackLinks>
  )
}

/** "View subscription … · Back to plans"; the subscription link only when there is an id. */
export function BackToPlans({ subscriptionId }) {
  return (
    <BackLinks
      item={subscriptionId && <SubscriptionLink subscriptionId={subscriptionId} />}
      to="/subscribe"
    >
      {t('links.backToPlans')}
    </BackLinks>
  )
}
