import type { LoggerOptions } from 'pino';

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
