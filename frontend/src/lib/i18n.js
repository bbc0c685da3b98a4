// The demo's language: Korean first, English as a switch (kept in localStorage). Texts live in
// texts.ko.js and texts.en.js under the same keys; t() fills {name} placeholders.
import { en } from './texts.en.js'
import { ko } from './texts.ko.js'

const STORAGE_KEY = 'lang'
export const LANGUAGES = ['ko', 'en']
export const DEFAULT_LANGUAGE = 'ko'
const DICTIONARIES = { ko, en }
const LOCALES = { ko: 'ko-KR', en: 'en-US' }

function stored() {
  try {
    const lang = globalThis.localStorage?.getItem(STORAGE_KEY)
    return LANGUAGES.includes(lang) ? lang : DEFAULT_LANGUAGE
  } catch {
    return DEFAULT_LANGUAGE
  }
}

let current = stored()

export const getLanguage = () => current

/** The Intl locale of the current language: "ko-KR" or "en-US". */
export const locale = () => LOCALES[current]

/** Switch the language (remembered for the next visit); the app re-renders on its own. */
export function setLanguage(lang) {
  current = LANGUAGES.includes(lang) ? lang : DEFAULT_LANGUAGE
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, current)
  } catch {
    // private mode: the choice lasts for this page only
  }
  if (globalThis.document) document.documentElement.lang = current
}

/** The text of `key` in the current language (English, then the key, when missing). */
export function t(key, vars = {}) {
  const text = DICTIONARIES[current][key] ?? en[key] ?? key
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match))
}

/** Whether both dictionaries have the same keys (the unit tests check it). */
export const missingKeys = () => ({
  ko: Object.keys(en).filter((k) => !(k in ko)),
  en: Object.keys(ko).filter((k) => !(k in en)),
})
