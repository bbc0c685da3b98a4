// Each page's own document title: "<page> · 결제 데모".
import { useEffect } from 'react'
import { t } from '../lib/i18n.js'

export function usePageTitle(title) {
  useEffect(() => {
    document.title = title ? `${title} · ${t('app.title')}` : t('app.title')
  }, [title])
}
