// The owner's and the subscriber's tables: a header row of columns, rows given as children.

/** The header row; a column is its label, or {label, className} for a styled header. */
export function TableHead({ columns }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => {
          const { label, className } = typeof column === 'string' ? { label: column } : column
          return (
            <th key={label} scope="col" className={className}>
              {label}
            </th>
          )
        })}
      </tr>
    </thead>
  )
}

/** A table that scrolls sideways on narrow screens, its caption for screen readers only. */
export function DataTable({ caption, columns, className, children }) {
  return (
    <div className="table-scroll">
      <table className={className}>
        <caption className="visually-hidden">{caption}</caption>
        <TableHead columns={columns} />
        <tbody>{children}</tbody>
      </table>
    </div>
  )
}
