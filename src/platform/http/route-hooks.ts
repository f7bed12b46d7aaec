/**
 * A route's hooks with one more at the end: what an `onRoute` hook uses to give a route a hook
 * of its own (a route's hook option is absent, one function or a list).
 */
export function withHook<T>(existing: T | T[] | undefined, hook: T): T[] {
  return existing === undefined ? [hook] : Array.isArray(existing) ? [...existing, hook] : [existing, hook];
}
