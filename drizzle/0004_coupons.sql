CREATE TABLE "order_coupons" (
	"order_id" uuid NOT NULL,
	"coupon_id" uuid NOT NULL,
	"name" text NOT NULL,
	"seat_id" uuid,
	"discount" integer NOT NULL,
	CONSTRAINT "order_coupons_order_id_coupon_id_pk" PRIMARY KEY("order_id","coupon_id")
);
--> statement-breakpoint
CREATE TABLE "coupon_campaigns" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"params" jsonb NOT NULL,
	"applies_to" text NOT NULL,
	"min_order_amount" integer DEFAULT 0 NOT NULL,
	"scope_performance_id" uuid,
	"scope_grade" text,
	"quantity" integer NOT NULL,
	"per_user_limit" integer NOT NULL,
	"claim_opens_at" timestamp with time zone NOT NULL,
	"claim_closes_at" timestamp with time zone,
	"valid_until" timestamp with time zone NOT NULL,
	"funded_by" text NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "coupon_campaigns_quantity_check" CHECK ("coupon_campaigns"."quantity" >= 1 and "coupon_campaigns"."per_user_limit" >= 1)
);
--> statement-breakpoint
CREATE TABLE "coupons" (
	"id" uuid PRIMARY KEY NOT NULL,
	"campaign_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"status" text NOT NULL,
	"reserved_order_id" uuid,
	"used_order_id" uuid,
	"issued_at" timestamp with time zone NOT NULL,
	"event_id" uuid NOT NULL,
	CONSTRAINT "coupons_status_check" CHECK ("coupons"."status" in ('AVAILABLE', 'USED'))
);
--> statement-breakpoint
ALTER TABLE "order_coupons" ADD CONSTRAINT "order_coupons_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coupons" ADD CONSTRAINT "coupons_campaign_id_coupon_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."coupon_campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "coupon_campaigns_performance_idx" ON "coupon_campaigns" USING btree ("scope_performance_id");--> statement-breakpoint
CREATE UNIQUE INDEX "coupons_issue_uq" ON "coupons" USING btree ("campaign_id","user_id","seq");--> statement-breakpoint
CREATE INDEX "coupons_user_idx" ON "coupons" USING btree ("user_id","id");--> statement-breakpoint
CREATE INDEX "coupons_reserved_idx" ON "coupons" USING btree ("reserved_order_id");