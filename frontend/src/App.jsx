import { Link, NavLink, Route, Routes, useLocation } from 'react-router-dom'
import { ConfigProvider } from './components/ConfigProvider.jsx'
import { useConfig } from './hooks/useConfig.js'
import AdminPage from './pages/AdminPage.jsx'
import AdminSubscriptionsPage from './pages/AdminSubscriptionsPage.jsx'
import OrderPage from './pages/OrderPage.jsx'
import ShopPage from './pages/ShopPage.jsx'
import SubscribePage from './pages/SubscribePage.jsx'
import SubscriptionPage from './pages/SubscriptionPage.jsx'
import SubscriptionTossFailPage from './pages/SubscriptionTossFailPage.jsx'
import SubscriptionTossSuccessPage from './pages/SubscriptionTossSuccessPage.jsx'
import TossFailPage from './pages/TossFailPage.jsx'
import TossSuccessPage from './pages/TossSuccessPage.jsx'

function ModeBadge() {
  const { config } = useConfig()
  if (!config) return null
  return <span className="mode">{config.mode} mode</span>
}

function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        <Link to="/">Back to products</Link>
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
      Subscriptions
    </NavLink>
  )
}

export default function App() {
  return (
    <ConfigProvider>
      <header className="topbar">
        <Link to="/" className="brand">
          Checkout demo
        </Link>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Shop
          </NavLink>
          <SubscriptionsLink />
          <NavLink to="/admin" end>
            Orders (owner)
          </NavLink>
          <NavLink to="/admin/subscriptions">Subscribers (owner)</NavLink>
        </nav>
        <ModeBadge />
      </header>
      <main>
        <Routes>
          <Route path="/" element={<ShopPage />} />
          <Route path="/checkout/toss/success" element={<TossSuccessPage />} />
          <Route path="/checkout/toss/fail" element={<TossFailPage />} />
          <Route path="/orders/:orderId" element={<OrderPage />} />
          <Route path="/subscribe" element={<SubscribePage />} />
          <Route path="/subscriptions/toss/success" element={<SubscriptionTossSuccessPage />} />
          <Route path="/subscriptions/toss/fail" element={<SubscriptionTossFailPage />} />
          <Route path="/subscriptions/:subscriptionId" element={<SubscriptionPage />} />
          <Route path="/admin" element={<AdminPage />} />
          <Route path="/admin/subscriptions" element={<AdminSubscriptionsPage />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </ConfigProvider>
  )
}
