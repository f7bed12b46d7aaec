CREATE TABLE "performances" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seller_id" uuid NOT NULL,
	"venue_id" uuid NOT NULL,
	"title" text NOT NULL,
	"description" text,
	"running_minutes" integer NOT NULL,
	"grades" jsonb NOT NULL,
	"seat_grades" jsonb NOT NULL,
	"default_grade" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "schedule_seats" (
	"schedule_id" uuid NOT NULL,
	"seat_id" uuid NOT NULL,
	"grade" text NOT NULL,
	"price" integer NOT NULL,
	"status" text DEFAULT 'AVAILABLE' NOT NULL,
	"order_id" uuid,
	CONSTRAINT "schedule_seats_schedule_id_seat_id_pk" PRIMARY KEY("schedule_id","seat_id"),
	CONSTRAINT "schedule_seats_status_check" CHECK ("schedule_seats"."status" in ('AVAILABLE', 'SOLD')),
	CONSTRAINT "schedule_seats_price_check" CHECK ("schedule_seats"."price" >= 0)
);
--> statement-breakpoint
CREATE TABLE "schedules" (
	"id" uuid PRIMARY KEY NOT NULL,
	"performance_id" uuid NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"sale_opens_at" timestamp with time zone NOT NULL,
	"sale_closes_at" timestamp with time zone NOT NULL,
	"waiting_room_enabled" boolean NOT NULL,
	"max_active" integer,
	"admit_per_tick" integer,
	"seat_count" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "schedules_sale_window_check" CHECK ("schedules"."sale_opens_at" < "schedules"."sale_closes_at" and "schedules"."sale_closes_at" <= "schedules"."starts_at")
);
--> statement-breakpoint
CREATE TABLE "seats" (
	"id" uuid PRIMARY KEY NOT NULL,
	"venue_id" uuid NOT NULL,
	"section" text NOT NULL,
	"row_label" text NOT NULL,
	"number" integer NOT NULL,
	"label" text NOT NULL,
	"ordinal" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "venues" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner_id" uuid NOT NULL,
	"name" text NOT NULL,
	"address" text,
	"seat_count" integer NOT NULL,
	"layout" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "performances" ADD CONSTRAINT "performances_venue_id_venues_id_fk" FOREIGN KEY ("venue_id") REFERENCES "public"."venues"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedule_seats" ADD CONSTRAINT "schedule_seats_schedule_id_schedules_id_fk" FOREIGN KEY ("schedule_id") REFERENCES "public"."schedules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedule_seats" ADD CONSTRAINT "schedule_seats_seat_id_seats_id_fk" FOREIGN KEY ("seat_id") REFERENCES "public"."seats"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedules" ADD CONSTRAINT "schedules_performance_id_performances_id_fk" FOREIGN KEY ("performance_id") REFERENCES "public"."performances"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "seats" ADD CONSTRAINT "seats_venue_id_venues_id_fk" FOREIGN KEY ("venue_id") REFERENCES "public"."venues"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "performances_seller_idx" ON "performances" USING btree ("seller_id");--> statement-breakpoint
CREATE INDEX "performances_live_idx" ON "performances" USING btree ("id") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "schedule_seats_taken_idx" ON "schedule_seats" USING btree ("schedule_id","seat_id") WHERE status <> 'AVAILABLE';--> statement-breakpoint
CREATE INDEX "schedules_performance_idx" ON "schedules" USING btree ("performance_id","starts_at");--> statement-breakpoint
CREATE UNIQUE INDEX "seats_venue_label_uq" ON "seats" USING btree ("venue_id","label");--> statement-breakpoint
CREATE UNIQUE INDEX "seats_venue_ordinal_uq" ON "seats" USING btree ("venue_id","ordinal");