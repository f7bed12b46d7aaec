import type { FastifyReply, FastifyRequest } from 'fastify';

/** A comment line this often keeps proxies and load balancers from closing an idle stream. */
export const EVENT_STREAM_KEEPALIVE_MS = 15_000;

export interface EventStream {
  /** Writes one event (already framed: `event: …\ndata: …\n\n`). */
  write(event: string): void;
  /** Ends the stream; runs the `onClose` callbacks once, whichever side closed first. */
  close(): void;
  onClose(fn: () => void): void;
}

/**
 * Takes the reply over as a server-sent event stream: its headers, a keep-alive comment every
 * EVENT_STREAM_KEEPALIVE_MS, and one close — by the server (`close`) or by the client going away —
 * that stops the keep-alive and runs the callbacks once. Refusals must happen before: from here
 * on the answer is a 200 stream.
 */
export function openEventStream(request: FastifyRequest, reply: FastifyReply): EventStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
  });
  const callbacks: (() => void)[] = [];
  const keepalive = setInterval(() => res.write(': keep-alive\n\n'), EVENT_STREAM_KEEPALIVE_MS);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepalive);
    for (const fn of callbacks) fn();
    res.end();
  };
  request.raw.on('close', close);
  return {
    write: (event) => void res.write(event),
    close,
    onClose: (fn) => void callbacks.push(fn),
  };
}
