ALTER TABLE "schedule_seats" DROP CONSTRAINT "schedule_seats_status_check";--> statement-breakpoint
ALTER TABLE "schedule_seats" ADD COLUMN "reserved_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "schedule_seats" ADD CONSTRAINT "schedule_seats_order_check" CHECK (("schedule_seats"."status" = 'AVAILABLE') = ("schedule_seats"."order_id" is null));--> statement-breakpoint
ALTER TABLE "schedule_seats" ADD CONSTRAINT "schedule_seats_status_check" CHECK ("schedule_seats"."status" in ('AVAILABLE', 'RESERVED', 'SOLD'));