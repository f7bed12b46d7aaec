/**
 * Redis Cluster routes a key by the part between its first `{` and `}`. Keys that one Lua script
 * touches must share that tag, so every key of one showtime or campaign is built from the same
 * `tag(...)`: `key('hold', tag('hold', id), 'seats')` → `hold:{hold_<id>}:seats`.
 */
export function tag(kind: string, id: string): string {
  if (/[{}]/.test(kind) || /[{}]/.test(id)) throw new Error('hash tag parts must not contain braces');
  return `{${kind}_${id}}`;
}

export function key(...parts: string[]): string {
  return parts.join(':');
}
