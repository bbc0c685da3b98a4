// The addresses of the buyer's pages.

export const orderPath = (orderId) => `/orders/${encodeURIComponent(orderId)}`

export const subscriptionPath = (subscriptionId) =>
  `/subscriptions/${encodeURIComponent(subscriptionId)}`
