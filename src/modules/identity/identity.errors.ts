import { defineError } from '../../platform/http/errors.js';

export const IdentityErrors = {
  EMAIL_TAKEN: defineError('EMAIL_TAKEN', 409, 'Email already registered'),
  INVALID_CREDENTIALS: defineError('INVALID_CREDENTIALS', 401, 'Invalid email or password'),
  REFRESH_TOKEN_REUSED: defineError('REFRESH_TOKEN_REUSED', 401, 'Refresh token reused; the session was revoked'),
} as const;
