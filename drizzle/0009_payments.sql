CREATE TABLE "payments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"payment_key" text NOT NULL,
	"amount" integer NOT NULL,
	"attempt" integer NOT NULL,
	"status" text NOT NULL,
	"method" text,
	"approved_at" timestamp with time zone,
	"pg_code" text,
	"pg_message" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "payments_status_check" CHECK ("payments"."status" in ('CONFIRMING', 'DONE', 'REJECTED', 'UNKNOWN', 'CANCELED')),
	CONSTRAINT "payments_attempt_check" CHECK ("payments"."attempt" >= 1),
	CONSTRAINT "payments_amount_check" CHECK ("payments"."amount" >= 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX "payments_order_uq" ON "payments" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "payments_open_idx" ON "payments" USING btree ("updated_at") WHERE status in ('CONFIRMING', 'UNKNOWN');