import { useState } from 'react'
import { useNavigate } from 'react-router-dom'
import { BuyerFields, GatewayFieldset, RadioChoice } from '../components/CheckoutFields.jsx'
import { ConfigGate } from '../components/ConfigProvider.jsx'
import { OrderLink } from '../components/links.jsx'
import { ErrorNotice, Progress } from '../components/notices.jsx'
import { TossWidget } from '../components/TossWidget.jsx'
import { useCheckoutChoices } from '../hooks/useCheckoutChoices.js'
import { usePageTitle } from '../hooks/usePageTitle.js'
import { completePayment, createOrder, failOrder } from '../lib/api.js'
import { exponentOf, formatMoney } from '../lib/format.js'
import { loadGatewaySdk, payWithPortOne, payWithToss } from '../lib/gateways.js'
import { t } from '../lib/i18n.js'
import { errorText, methodName, unconfirmedPayment } from '../lib/messages.js'
import { orderPath } from '../lib/paths.js'
import { payWithPortOneV2 } from '../lib/portone.js'
import { payWithTossWidget, TOSS_INTEGRATIONS, widgetMethod } from '../lib/toss.js'

const MAX_QUANTITY = 99

/** The demo's forged amount: 1,000 won or one dollar less than the order. */
function tamperedAmount(amount, currency) {
  const less = exponentOf(currency) === 0 ? 1000 : 10 ** exponentOf(currency)
  return Math.max(1, amount - less)
}

function parseQuantity(value) {
  const n = Number.parseInt(value, 10)
  return Number.isNaN(n) ? 0 : Math.min(Math.max(n, 0), MAX_QUANTITY)
}

export default function ShopPage() {
  usePageTitle(t('shop.title'))
  return (
    <>
      <h1>{t('shop.title')}</h1>
      <ConfigGate>{(config) => <Shop config={config} />}</ConfigGate>
    </>
  )
}

function Shop({ config }) {
  const navigate = useNavigate()
  const products = config.products || []
  const { vendors, vendor, setVendor, buyer, setBuyer } = useCheckoutChoices(config)

  const [quantities, setQuantities] = useState({})
  const [method, setMethod] = useState('card')
  const [tossIntegration, setTossIntegration] = useState('window')
  const [tossWidget, setTossWidget] = useState(null) // {widgets, methods} once rendered
  const [tamper, setTamper] = useState(false)
  const [busy, setBusy] = useState(false)
  const [progress, setProgress] = useState('')
  const [error, setError] = useState(null)

  const lines = products
    .map((product) => ({ product, quantity: parseQuantity(quantities[product.id] ?? '0') }))
    .filter((line) => line.quantity > 0)
  const currencies = [...new Set(lines.map((line) => line.product.currency))]
  const currency = currencies.length === 1 ? currencies[0] : null
  const mixed = currencies.length > 1
  const total = currency ? lines.reduce((sum, l) => sum + l.product.price * l.quantity, 0) : null
  const vbankAllowed = !currency || currency === 'KRW'
  const payMethod = method === 'vbank' && !vbankAllowed ? 'card' : method
  const tossConfig = config.vendors.toss
  const integrations = TOSS_INTEGRATIONS.filter((i) => i !== 'widget' || tossConfig?.widget_client_key)
  const integration = integrations.includes(tossIntegration) ? tossIntegration : 'window'
  const widget = vendor === 'toss' && integration === 'widget'

  function setQuantity(id, value) {
    setQuantities((q) => ({ ...q, [id]: value }))
  }

  function addToCart(id) {
    setQuantities((q) => ({
      ...q,
      [id]: String(Math.min(parseQuantity(q[id] ?? '0') + 1, MAX_QUANTITY)),
    }))
  }

  async function reportFailure(order, failure) {
    setError({ text: errorText(failure), orderId: order.order_id })
    try {
      await failOrder(order.order_id, failure)
    } catch {
      // Only a record of what the buyer saw; the order stays pending if this does not arrive.
    }
  }

  async function pay(event) {
    event.preventDefault()
    setError(null)
    setBusy(true)
    const vendorConfig = config.vendors[vendor]
    let order = null
    let step = 'order'
    try {
      let orderMethod = payMethod
      if (widget) {
        // The buyer chooses the method in Toss's widget; the order is made for that method.
        const selected = tossWidget && (await tossWidget.methods.getSelectedPaymentMethod())
        if (!selected) {
          setError({ text: t('shop.widgetChoose') })
          return
        }
        orderMethod = widgetMethod(selected)
      }
      setProgress(t('shop.creating'))
      // Before the order exists, if the gateway is down.
      await loadGatewaySdk(vendor, vendorConfig, integration)
      order = await createOrder({
        vendor,
        method: orderMethod,
        items: lines.map((l) => ({ product_id: l.product.id, quantity: l.quantity })),
        buyer,
      })
      const amount = tamper ? tamperedAmount(order.amount, order.currency) : order.amount

      step = 'window'
      setProgress(t('shop.waiting'))
      if (widget) {
        await payWithTossWidget(tossWidget.widgets, order, amount, buyer)
        return // the payment window sends the browser to /checkout/toss/success or /fail
      }
      if (vendor === 'toss') {
        await payWithToss(vendorConfig, order, amount, buyer, integration)
        return
      }
      const result =
        vendor === 'portone'
          ? await payWithPortOneV2(vendorConfig, order, amount, buyer)
          : await payWithPortOne(vendorConfig, order, amount, buyer)
      if (!result.ok) {
        await reportFailure(order, result)
        return
      }

      step = 'complete'
      setProgress(t('shop.confirming'))
      // The amount the window was asked for: the callback carries none (the backend compares it
      // with what the gateway says was paid).
      const confirmed = await completePayment({
        orderId: order.order_id,
        vendor,
        paymentId: result.paymentId,
        amount,
      })
      navigate(orderPath(confirmed.order_id))
    } catch (err) {
      if (step === 'window') {
        await reportFailure(order, { code: err.code || 'SDK_ERROR', message: err.message })
      } else if (step === 'complete' && err.code === 'AMOUNT_MISMATCH') {
        navigate(orderPath(order.order_id), {
          state: { error: { code: err.code, message: err.message } },
        })
      } else if (step === 'complete') {
        // The gateway may already have charged the card: never invite a second payment.
        setError({ text: unconfirmedPayment(), orderId: order.order_id })
      } else {
        setError({ text: errorText(err), orderId: order?.order_id })
      }
    } finally {
      setBusy(false)
      setProgress('')
    }
  }

  return (
    <div className="shop">
      <section aria-labelledby="products-heading">
        <h2 id="products-heading">{t('shop.products')}</h2>
        <ul className="products">
          {products.map((p) => (
            <li key={p.id}>
              <article className="card" aria-labelledby={`product-${p.id}`}>
                <h3 id={`product-${p.id}`}>{p.name}</h3>
                {p.description && <p className="muted">{p.description}</p>}
                <p className="price">{formatMoney(p.price, p.currency)}</p>
                <div className="row">
                  <label className="quantity">
                    <span aria-hidden="true">{t('shop.quantity')}</span>
                    <input
                      aria-label={t('shop.quantityOf', { name: p.name })}
                      type="number"
                      inputMode="numeric"
                      min="0"
                      max={MAX_QUANTITY}
                      value={quantities[p.id] ?? '0'}
                      onChange={(e) => setQuantity(p.id, e.target.value)}
                    />
                  </label>
                  <button
                    type="button"
                    onClick={() => addToCart(p.id)}
                    aria-label={t('shop.addNamed', { name: p.name })}
                  >
                    {t('shop.add')}
                  </button>
                </div>
              </article>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="checkout-heading" className="checkout card">
        <h2 id="checkout-heading">{t('shop.checkout')}</h2>
        <form onSubmit={pay}>
          {lines.length === 0 ? (
            <p className="muted">{t('shop.empty')}</p>
          ) : (
            <ul aria-label={t('shop.cart')} className="cart">
              {lines.map(({ product, quantity }) => (
                <li key={product.id}>
                  <span>
                    {product.name} × {quantity}
                  </span>
                  <span>{formatMoney(product.price * quantity, product.currency)}</span>
                </li>
              ))}
            </ul>
          )}
          {total !== null && (
            <p className="total">
              {t('shop.total')} <strong>{formatMoney(total, currency)}</strong>
            </p>
          )}
          {mixed && (
            <p className="notice notice-warning">
              {t('shop.mixed')}
            </p>
          )}

          <GatewayFieldset vendors={vendors} vendor={vendor} onChange={setVendor} />

          {vendor === 'toss' && (
            <fieldset>
              <legend>{t('shop.tossIntegration')}</legend>
              {integrations.map((i) => (
                <RadioChoice
                  key={i}
                  name="toss-integration"
                  value={i}
                  checked={integration === i}
                  onSelect={() => setTossIntegration(i)}
                >
                  {t(`shop.toss.${i}`)}
                </RadioChoice>
              ))}
            </fieldset>
          )}

          {widget && total !== null && (
            <TossWidget
              key={currency}
              vendor={tossConfig}
              amount={total}
              currency={currency}
              onReady={setTossWidget}
            />
          )}

          <fieldset hidden={widget}>
            <legend>{t('shop.method')}</legend>
            <RadioChoice
              name="method"
              value="card"
              checked={payMethod === 'card'}
              onSelect={() => setMethod('card')}
            >
              {methodName('card')}
            </RadioChoice>
            <RadioChoice
              name="method"
              value="vbank"
              checked={payMethod === 'vbank'}
              onSelect={() => setMethod('vbank')}
              disabled={!vbankAllowed}
              aria-describedby={vbankAllowed ? undefined : 'vbank-hint'}
            >
              {methodName('vbank')}
            </RadioChoice>
            {!vbankAllowed && (
              <p id="vbank-hint" className="muted small">
                {t('shop.vbankKrwOnly')}
              </p>
            )}
          </fieldset>

          <BuyerFields buyer={buyer} onChange={setBuyer} withTel />

          <label className="choice tamper">
            <input type="checkbox" checked={tamper} onChange={(e) => setTamper(e.target.checked)} />
            {t('shop.tamper')}
          </label>

          <button
            type="submit"
            className="primary"
            disabled={
              busy || lines.length === 0 || mixed || vendors.length === 0 || (widget && !tossWidget)
            }
          >
            {t('shop.pay')}
          </button>

          {progress && <Progress>{progress}</Progress>}
          {error && (
            <ErrorNotice text={error.text}>
              {error.orderId && (
                <p>
                  <OrderLink orderId={error.orderId} />
                </p>
              )}
            </ErrorNotice>
          )}
        </form>
      </section>
    </div>
  )
}
