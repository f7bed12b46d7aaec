import { Type, type Static } from '@sinclair/typebox';
import { Name, StrictObject, Uuid } from '../../platform/http/schemas.js';

const Email = Type.String({ format: 'email', maxLength: 254 });

export const SignupBody = StrictObject({
  email: Email,
  password: Type.String({ minLength: 8, maxLength: 128 }),
  name: Name(100),
  role: Type.Optional(Type.Union([Type.Literal('BUYER'), Type.Literal('SELLER')])),
});
export type SignupBody = Static<typeof SignupBody>;

export const LoginBody = StrictObject({
  email: Email,
  password: Type.String({ minLength: 1, maxLength: 128 }),
});

export const RefreshBody = StrictObject({ refreshToken: Type.String({ minLength: 1, maxLength: 512 }) });

export const User = Type.Object({
  id: Uuid,
  email: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal('BUYER'), Type.Literal('SELLER'), Type.Literal('ADMIN')]),
});

export const TokenPair = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Seconds until the access token expires' }),
});
