// What the pages tell the user: errors, work under way, the outcome of an action, a status.
import { t } from '../lib/i18n.js'

/** An error box: its text, then what `children` add, then a "Try again" button for onRetry. */
export function ErrorNotice({ text, onRetry, children }) {
  return (
    <div role="alert" className="notice notice-error">
      <p>{text}</p>
      {children}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t('common.tryAgain')}
        </button>
      )}
    </div>
  )
}

/** A line saying what is under way ("Confirming payment…"). */
export function Progress({ children }) {
  return (
    <p role="status" className="muted">
      {children}
    </p>
  )
}

/** An action's answer: `ok` as a status line, `error` as an alert line (either may be empty). */
export function Outcome({ ok, error }) {
  return (
    <>
      {ok && (
        <p role="status" className="ok">
          {ok}
        </p>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </>
  )
}

/** "Status <badge>", the badge named `label` for assistive technology. */
export function StatusLine({ label, badge, children }) {
  return (
    <p className="status-line">
      {t('common.status')}{' '}
      <span role="status" aria-label={label} className={`badge ${badge}`}>
        {children}
      </span>
    </p>
  )
}
