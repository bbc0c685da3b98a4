// A button that copies a value (an account number) to the clipboard and says so.
import { useState } from 'react'
import { t } from '../lib/i18n.js'

export function CopyButton({ value, name }) {
  const [copied, setCopied] = useState(false)

  async function copy() {
    try {
      await navigator.clipboard.writeText(value)
      setCopied(true)
    } catch {
      setCopied(false) // no clipboard (an http page): the number stays selectable
    }
  }

  return (
    <>
      <button
        type="button"
        className="copy"
        onClick={copy}
        aria-label={t('common.copyNamed', { name })}
      >
        {t('common.copy')}
      </button>
      {copied && (
        <span role="status" className="ok small">
          {' '}
          {t('common.copied')}
        </span>
      )}
    </>
  )
}
