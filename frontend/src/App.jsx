import { Link, NavLink, Route, Routes } from 'react-router-dom'
import { ConfigProvider, useConfig } from './config.jsx'
import AdminPage from './pages/AdminPage.jsx'
import OrderPage from './pages/OrderPage.jsx'
import ShopPage from './pages/ShopPage.jsx'
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
          <NavLink to="/admin">Orders (owner)</NavLink>
        </nav>
        <ModeBadge />
      </header>
      <main>
        <Routes>
          <Route path="/" element={<ShopPage />} />
          <Route path="/checkout/toss/success" element={<TossSuccessPage />} />
          <Route path="/checkout/toss/fail" element={<TossFailPage />} />
          <Route path="/orders/:orderId" element={<OrderPage />} />
          <Route path="/admin" element={<AdminPage />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </ConfigProvider>
  )
}
