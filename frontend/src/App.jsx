import { lazy, Suspense, useState } from 'react'
import { Link, NavLink, Route, Routes, useLocation } from 'react-router-dom'
import { ConfigProvider } from './components/ConfigProvider.jsx'
import { LanguageSwitch } from './components/LanguageSwitch.jsx'
import { useConfig } from './hooks/useConfig.js'
import { usePageTitle } from './hooks/usePageTitle.js'
import { getLanguage, setLanguage, t } from './lib/i18n.js'
import AdminPage from './pages/AdminPage.jsx'
import OrderPage from './pages/OrderPage.jsx'
import PortOneReturnPage from './pages/PortOneReturnPage.jsx'
import PortOneV2ReturnPage from './pages/PortOneV2ReturnPage.jsx'
import ShopPage from './pages/ShopPage.jsx'
import SubscribePage from './pages/SubscribePage.jsx'
import SubscriptionPage from './pages/SubscriptionPage.jsx'
import SubscriptionTossFailPage from './pages/SubscriptionTossFailPage.jsx'
import SubscriptionTossSuccessPage from './pages/SubscriptionTossSuccessPage.jsx'
import TossFailPage from './pages/TossFailPage.jsx'
import TossSuccessPage from './pages/TossSuccessPage.jsx'

// The owner's charts (Recharts) load only on their page, not with the shop.
const AdminSubscriptionsPage = lazy(() => import('./pages/AdminSubscriptionsPage.jsx'))

function ModeBadge() {
  const { config } = useConfig()
  if (!config) return null
  return <span className="mode">{t('app.mode', { mode: config.mode })}</span>
}

function NotFound() {
  usePageTitle(t('notFound.title'))
  return (
    <>
      <h1>{t('notFound.title')}</h1>
      <p>
        <Link to="/">{t('links.backToProducts')}</Link>
      </p>
    </>
  )
}

/** "Subscriptions" stays marked on the subscriber's pages under /subscriptions too. */
function SubscriptionsLink() {
  const { pathname } = useLocation()
  const here = pathname === '/subscribe' || pathname.startsWith('/subscriptions/')
  return (
    <NavLink to="/subscribe" className={here ? 'active' : undefined}>
      {t('nav.subscriptions')}
    </NavLink>
  )
}

export default function App() {
  // Every text is read through t() while rendering: a new language re-renders the whole tree.
  const [lang, setLang] = useState(getLanguage)

  function changeLanguage(next) {
    setLanguage(next)
    setLang(next)
  }

  return (
    <ConfigProvider>
      <header className="topbar">
        <Link to="/" className="brand">
          {t('app.brand')}
        </Link>
        <nav aria-label={t('nav.main')}>
          <NavLink to="/" end>
            {t('nav.shop')}
          </NavLink>
          <SubscriptionsLink />
          <NavLink to="/admin" end>
            {t('nav.orders')}
          </NavLink>
          <NavLink to="/admin/subscriptions">{t('nav.subscribers')}</NavLink>
        </nav>
        <ModeBadge />
        <LanguageSwitch lang={lang} onChange={changeLanguage} />
      </header>
      <main lang={lang}>
        <Routes>
          <Route path="/" element={<ShopPage />} />
          <Route path="/checkout/toss/success" element={<TossSuccessPage />} />
          <Route path="/checkout/toss/fail" element={<TossFailPage />} />
          <Route path="/checkout/portone/return" element={<PortOneReturnPage />} />
          <Route path="/checkout/portone-v2/return" element={<PortOneV2ReturnPage />} />
          <Route path="/orders/:orderId" element={<OrderPage />} />
          <Route path="/subscribe" element={<SubscribePage />} />
          <Route path="/subscriptions/toss/success" element={<SubscriptionTossSuccessPage />} />
          <Route path="/subscriptions/toss/fail" element={<SubscriptionTossFailPage />} />
          <Route path="/subscriptions/:subscriptionId" element={<SubscriptionPage />} />
          <Route path="/admin" element={<AdminPage />} />
          <Route
            path="/admin/subscriptions"
            element={
              <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
                <AdminSubscriptionsPage />
              </Suspense>
            }
          />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </ConfigProvider>
  )
}
