import type { paths } from './schema';

type Json<T> = T extends { content: { 'application/json': infer J } } ? J : never;
type Success<R> = R extends { 200: infer A } ? Json<A> : R extends { 201: infer B } ? Json<B> : never;

/** The JSON body of a route's success answer, read off the generated schema. */
export type Ok<P extends keyof paths, M extends 'get' | 'post' | 'patch' | 'delete'> = paths[P][M] extends { responses: infer R } ? Success<R> : never;
/** The JSON request body of a route. */
export type Body<P extends keyof paths, M extends 'post' | 'patch'> = paths[P][M] extends { requestBody?: { content: { 'application/json': infer B } } }
  ? B
  : never;

export type PerformanceSummary = Ok<'/v1/performances', 'get'>['items'][number];
export type Performance = Ok<'/v1/performances/{id}', 'get'>;
export type Showtime = Ok<'/v1/schedules/{id}', 'get'>;
export type Layout = Ok<'/v1/schedules/{id}/layout', 'get'>;
export type LayoutSeat = Layout['seats'][number];
export type QueueStatus = Ok<'/v1/schedules/{id}/queue', 'get'>;
export type Hold = Ok<'/v1/schedules/{id}/holds', 'post'>;
export type Quote = Ok<'/v1/orders/quote', 'post'>;
export type Order = Ok<'/v1/orders/{id}', 'get'>;
export type Ticket = Ok<'/v1/me/tickets', 'get'>['items'][number];
export type Campaign = Ok<'/v1/coupons/{id}', 'get'>;
export type WalletCoupon = Ok<'/v1/me/coupons', 'get'>['items'][number];
export type Venue = Ok<'/v1/venues/{venueId}', 'get'>;
export type Settlement = Ok<'/v1/seller/settlements/{id}', 'get'>;
export type SettlementSummary = Ok<'/v1/seller/settlements', 'get'>['items'][number];
export type Sales = Ok<'/v1/seller/sales', 'get'>;
