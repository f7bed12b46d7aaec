CREATE TABLE "settlement_ledger" (
	"id" uuid PRIMARY KEY NOT NULL,
	"event_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"seller_id" uuid NOT NULL,
	"performance_id" uuid NOT NULL,
	"performance_title" text NOT NULL,
	"schedule_id" uuid NOT NULL,
	"order_id" uuid NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"seats" integer NOT NULL,
	"list_total" integer NOT NULL,
	"seller_discount" integer NOT NULL,
	"platform_discount" integer NOT NULL,
	"charged" integer NOT NULL,
	"platform_fee" integer NOT NULL,
	"pg_fee" integer NOT NULL,
	"platform_fee_ppm" integer NOT NULL,
	"pg_fee_ppm" integer NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	CONSTRAINT "settlement_ledger_kind_check" CHECK ("settlement_ledger"."kind" in ('SALE', 'REFUND')),
	CONSTRAINT "settlement_ledger_amounts_check" CHECK ("settlement_ledger"."list_total" >= 0 and "settlement_ledger"."seller_discount" >= 0 and "settlement_ledger"."platform_discount" >= 0 and "settlement_ledger"."charged" >= 0 and "settlement_ledger"."platform_fee" >= 0 and "settlement_ledger"."pg_fee" >= 0 and "settlement_ledger"."seats" >= 0)
);
--> statement-breakpoint
CREATE TABLE "settlement_lines" (
	"settlement_id" uuid NOT NULL,
	"order_id" uuid NOT NULL,
	"performance_id" uuid NOT NULL,
	"performance_title" text NOT NULL,
	"schedule_id" uuid NOT NULL,
	"sale_entry_id" uuid,
	"refund_entry_id" uuid,
	"sold_at" timestamp with time zone,
	"refunded_at" timestamp with time zone,
	"seats" integer NOT NULL,
	"gross" integer NOT NULL,
	"seller_discount" integer NOT NULL,
	"platform_discount" integer NOT NULL,
	"charged" integer NOT NULL,
	"refunds" integer NOT NULL,
	"platform_fee" integer NOT NULL,
	"pg_fee" integer NOT NULL,
	"net" integer NOT NULL,
	CONSTRAINT "settlement_lines_settlement_id_order_id_pk" PRIMARY KEY("settlement_id","order_id")
);
--> statement-breakpoint
CREATE TABLE "settlement_pending" (
	"entry_id" uuid PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settlement_runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"period_end" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "settlement_runs_period_check" CHECK ("settlement_runs"."period_start" < "settlement_runs"."period_end")
);
--> statement-breakpoint
CREATE TABLE "settlements" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "settlements_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" uuid NOT NULL,
	"seller_id" uuid NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"period_end" timestamp with time zone NOT NULL,
	"line_count" integer NOT NULL,
	"gross" bigint NOT NULL,
	"seller_discounts" bigint NOT NULL,
	"platform_discounts" bigint NOT NULL,
	"refunds" bigint NOT NULL,
	"platform_fee" bigint NOT NULL,
	"pg_fee" bigint NOT NULL,
	"subtotal" bigint NOT NULL,
	"carried_in" bigint NOT NULL,
	"carried_out" bigint NOT NULL,
	"net" bigint NOT NULL,
	"status" text NOT NULL,
	"paid_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "settlements_status_check" CHECK ("settlements"."status" in ('PENDING', 'PAID')),
	CONSTRAINT "settlements_net_check" CHECK ("settlements"."net" >= 0 and "settlements"."carried_in" >= 0 and "settlements"."carried_out" >= 0),
	CONSTRAINT "settlements_balance_check" CHECK ("settlements"."subtotal" = "settlements"."gross" - "settlements"."seller_discounts" - "settlements"."platform_fee" - "settlements"."pg_fee" - "settlements"."refunds" and "settlements"."net" - "settlements"."carried_out" = "settlements"."subtotal" - "settlements"."carried_in")
);
--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "refunded_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "settlement_lines" ADD CONSTRAINT "settlement_lines_settlement_id_settlements_id_fk" FOREIGN KEY ("settlement_id") REFERENCES "public"."settlements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "settlements" ADD CONSTRAINT "settlements_run_id_settlement_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."settlement_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "settlement_ledger_event_uq" ON "settlement_ledger" USING btree ("event_id");--> statement-breakpoint
CREATE UNIQUE INDEX "settlement_ledger_order_kind_uq" ON "settlement_ledger" USING btree ("order_id","kind");--> statement-breakpoint
CREATE INDEX "settlement_ledger_seller_time_idx" ON "settlement_ledger" USING btree ("seller_id","occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "settlement_lines_sale_uq" ON "settlement_lines" USING btree ("sale_entry_id");--> statement-breakpoint
CREATE UNIQUE INDEX "settlement_lines_refund_uq" ON "settlement_lines" USING btree ("refund_entry_id");--> statement-breakpoint
CREATE INDEX "settlement_pending_time_idx" ON "settlement_pending" USING btree ("occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "settlement_runs_period_uq" ON "settlement_runs" USING btree ("period_start","period_end");--> statement-breakpoint
CREATE UNIQUE INDEX "settlements_run_seller_uq" ON "settlements" USING btree ("run_id","seller_id");--> statement-breakpoint
CREATE INDEX "settlements_seller_idx" ON "settlements" USING btree ("seller_id","seq");--> statement-breakpoint
-- The settlement ledger is append-only: nothing in it is ever updated or deleted (a correction is a new entry).
CREATE FUNCTION "settlement_ledger_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'settlement_ledger is append-only: % refused', TG_OP;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "settlement_ledger_append_only" BEFORE UPDATE OR DELETE ON "settlement_ledger" FOR EACH ROW EXECUTE FUNCTION "settlement_ledger_append_only"();--> statement-breakpoint
CREATE TRIGGER "settlement_ledger_no_truncate" BEFORE TRUNCATE ON "settlement_ledger" FOR EACH STATEMENT EXECUTE FUNCTION "settlement_ledger_append_only"();
