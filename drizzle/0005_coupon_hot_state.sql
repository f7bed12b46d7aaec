ALTER TABLE "coupon_campaigns" ADD COLUMN "hot_epoch" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "coupon_campaigns" ADD COLUMN "hot_status" text DEFAULT 'LIVE' NOT NULL;--> statement-breakpoint
ALTER TABLE "coupon_campaigns" ADD COLUMN "hot_lost_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "coupon_campaigns" ADD CONSTRAINT "coupon_campaigns_hot_status_check" CHECK ("coupon_campaigns"."hot_status" in ('LIVE', 'SEALED', 'LOST'));