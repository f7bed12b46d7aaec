ALTER TABLE "orders" ADD COLUMN "idempotency_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "orders_idempotency_key_uq" ON "orders" USING btree ("user_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "orders_pending_by_buyer_idx" ON "orders" USING btree ("user_id","schedule_id") WHERE status = 'PENDING_PAYMENT';