CREATE TABLE "order_items" (
	"order_id" uuid NOT NULL,
	"seat_id" uuid NOT NULL,
	"label" text NOT NULL,
	"grade" text NOT NULL,
	"price" integer NOT NULL,
	"discount" integer NOT NULL,
	CONSTRAINT "order_items_order_id_seat_id_pk" PRIMARY KEY("order_id","seat_id"),
	CONSTRAINT "order_items_discount_check" CHECK ("order_items"."discount" between 0 and "order_items"."price")
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"schedule_id" uuid NOT NULL,
	"status" text NOT NULL,
	"subtotal" integer NOT NULL,
	"discount" integer NOT NULL,
	"amount" integer NOT NULL,
	"order_name" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"paid_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone,
	"cancel_reason" text,
	CONSTRAINT "orders_status_check" CHECK ("orders"."status" in ('PENDING_PAYMENT', 'PAID', 'EXPIRED', 'CANCELLED', 'REFUNDED')),
	CONSTRAINT "orders_amount_check" CHECK ("orders"."amount" = "orders"."subtotal" - "orders"."discount" and "orders"."amount" >= 0 and "orders"."discount" >= 0)
);
--> statement-breakpoint
CREATE TABLE "tickets" (
	"id" uuid PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"schedule_id" uuid NOT NULL,
	"seat_id" uuid NOT NULL,
	"seat_label" text NOT NULL,
	"code" text NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "tickets_code_unique" UNIQUE("code"),
	CONSTRAINT "tickets_status_check" CHECK ("tickets"."status" in ('VALID', 'CANCELLED'))
);
--> statement-breakpoint
ALTER TABLE "order_items" ADD CONSTRAINT "order_items_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "orders_user_idx" ON "orders" USING btree ("user_id","id");--> statement-breakpoint
CREATE INDEX "orders_pending_expiry_idx" ON "orders" USING btree ("expires_at") WHERE status = 'PENDING_PAYMENT';--> statement-breakpoint
CREATE INDEX "orders_schedule_idx" ON "orders" USING btree ("schedule_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "tickets_seat_once_uq" ON "tickets" USING btree ("schedule_id","seat_id") WHERE status = 'VALID';--> statement-breakpoint
CREATE INDEX "tickets_user_idx" ON "tickets" USING btree ("user_id","id");