/**
 * True when Redis could not serve a command: not connected (the client keeps no offline queue,
 * so a command fails at once instead of waiting for a reconnect), the command timed out, or the
 * connection dropped with it in flight, or a Redis Cluster is failing over. The request answers 503 with Retry-After (docs/api.md); the
 * client reconnects on its own.
 */
export function isRedisUnavailable(err: unknown): boolean {
  for (let e = err, i = 0; i < 4 && e && typeof e === 'object'; i++, e = (e as { cause?: unknown }).cause) {
    const { name, message, code } = e as { name?: string; message?: string; code?: string };
    if (name === 'MaxRetriesPerRequestError') return true;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE') return true;
    if (/enableOfflineQueue options is false|^Connection is closed|^Command timed out|^Stream isn't writeable|^LOADING /.test(message ?? '')) return true;
    // A Redis Cluster between a master's death and its replica's promotion: the client's retries
    // ran out (`Too many Cluster redirections`), the cluster said it cannot serve the slot, or no
    // node answered the slot map's refresh. The slot map follows the new master by itself. A
    // claim's WAIT sent by a slot map not yet refreshed reaches the old master come back as a
    // replica, which refuses it with an ERR rather than a redirection: the same failover.
    if (
      /^Too many Cluster redirections|^CLUSTERDOWN |^TRYAGAIN |^READONLY |^MASTERDOWN |^Failed to refresh slots cache|^None of startup nodes|^Cluster is ended|^ERR WAIT cannot be used with replica instances/.test(
        message ?? '',
      )
    )
      return true;
  }
  return false;
}
