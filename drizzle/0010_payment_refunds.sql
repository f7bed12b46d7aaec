ALTER TABLE "payments" DROP CONSTRAINT "payments_status_check";--> statement-breakpoint
DROP INDEX "payments_open_idx";--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "refund_attempt" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "payments_open_idx" ON "payments" USING btree ("updated_at") WHERE status in ('CONFIRMING', 'UNKNOWN', 'REFUNDING');--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_refund_attempt_check" CHECK ("payments"."refund_attempt" >= 0);--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_status_check" CHECK ("payments"."status" in ('CONFIRMING', 'DONE', 'REJECTED', 'UNKNOWN', 'REFUNDING', 'CANCELED'));