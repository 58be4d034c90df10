/** A PostgreSQL identifier, quoted (partition names are built from dates, but never trusted). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
