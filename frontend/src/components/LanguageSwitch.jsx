// 한국어 / English: the demo speaks Korean first; the choice is remembered (lib/i18n.js).
import { LANGUAGES, t } from '../lib/i18n.js'

const NAMES = { ko: '한국어', en: 'English' }

export function LanguageSwitch({ lang, onChange }) {
  return (
    <div role="group" aria-label={t('lang.label')} className="lang-switch">
      {LANGUAGES.map((code) => (
        <button
          key={code}
          type="button"
          lang={code}
          aria-pressed={lang === code}
          onClick={() => onChange(code)}
        >
          {NAMES[code]}
        </button>
      ))}
    </div>
  )
}
