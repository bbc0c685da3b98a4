// What the pages tell the user: errors, work under way, the outcome of an action, a status.

/** An error box: its text, then what `children` add, then a "Try again" button for onRetry. */
export function ErrorNotice({ text, onRetry, children }) {
  return (
    <div role="alert" className="notice notice-error">
      <p>{text}</p>
      {children}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
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
      Status{' '}
      <span role="status" aria-label={label} className={`badge ${badge}`}>
        {children}
      </span>
    </p>
  )
}
