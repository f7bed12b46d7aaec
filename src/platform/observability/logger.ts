import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import pino, { type DestinationStream, type LoggerOptions } from 'pino';

/**
 * JSON logs for an ELK/Loki shipper. Credentials and tokens never reach a log line: the paths
 * below are censored wherever a request, a reply or a body is logged.
 */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-admission-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.accessToken',
  '*.refreshToken',
  '*.admissionToken',
  '*.secretKey',
  '*.paymentKey',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    base: { service: 'mos' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    redact: { paths: redactPaths, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  };
}

/**
 * Where the process logs: stdout, written in batches of about 4 KB (at least once a second)
 * rather than one write per line. A request's log line costs a system call otherwise, and under
 * load that is a measurable share of the request. pino flushes what is buffered when the process
 * exits, crash included; only a SIGKILL loses the last second.
 */
export function logDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 1000 });
}

/**
 * One access-log line per request — "request completed", with the request (method, URL, client),
 * the status and the time — instead of Fastify's two ("incoming request" first): half the
 * serializing and writing, and nothing lost, since the completed line says what the incoming
 * one did. The request id and, once authenticated, the user id ride on every line (auth.ts).
 */
export class AccessLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
