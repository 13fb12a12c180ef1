CREATE TABLE "stripe_events" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "stripe_events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"type" text NOT NULL,
	"api_version" text,
	"livemode" boolean NOT NULL,
	"stripe_account" text NOT NULL,
	"created" bigint NOT NULL,
	"object_type" text,
	"object_id" text,
	"serial_key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"outcome" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"available_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	CONSTRAINT "stripe_events_status_check" CHECK ("stripe_events"."status" in ('pending', 'processed', 'dead'))
);
--> statement-breakpoint
CREATE TABLE "sync_refetches" (
	"object_type" text NOT NULL,
	"object_id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"serial_key" text NOT NULL,
	"known_created" bigint NOT NULL,
	"reason" text NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_refetches_object_type_object_id_stripe_account_livemode_pk" PRIMARY KEY("object_type","object_id","stripe_account","livemode")
);
--> statement-breakpoint
CREATE TABLE "account_customers" (
	"account_id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"customer_id" text NOT NULL,
	"source" text NOT NULL,
	"linked_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "account_customers_account_id_stripe_account_livemode_pk" PRIMARY KEY("account_id","stripe_account","livemode")
);
--> statement-breakpoint
CREATE TABLE "active_entitlements" (
	"id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"data" jsonb NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"last_event_id" text,
	"last_event_created" bigint NOT NULL,
	"source" text NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"feature_lookup_keys" text[] NOT NULL,
	CONSTRAINT "active_entitlements_id_stripe_account_livemode_pk" PRIMARY KEY("id","stripe_account","livemode")
);
--> statement-breakpoint
CREATE TABLE "billing_meters" (
	"id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"data" jsonb NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"last_event_id" text,
	"last_event_created" bigint NOT NULL,
	"source" text NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"event_name" text,
	"status" text,
	CONSTRAINT "billing_meters_id_stripe_account_livemode_pk" PRIMARY KEY("id","stripe_account","livemode")
);
--> statement-breakpoint
CREATE TABLE "checkout_sessions" (
	"id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"data" jsonb NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"last_event_id" text,
	"last_event_created" bigint NOT NULL,
	"source" text NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"customer_id" text,
	"status" text,
	"mode" text,
	"payment_status" text,
	"client_reference_id" text,
	"subscription_id" text,
	"account_id" text,
	CONSTRAINT "checkout_sessions_id_stripe_account_livemode_pk" PRIMARY KEY("id","stripe_account","livemode")
);
--> statement-breakpoint
CREATE TABLE "customers" (
	"id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"data" jsonb NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"last_event_id" text,
	"last_event_created" bigint NOT NULL,
	"source" text NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"email" text,
	"name" text,
	"created_at" timestamp with time zone,
	CONSTRAINT "customers_id_stripe_account_livemode_pk" PRIMARY KEY("id","stripe_account","livemode")
);
--> statement-breakpoint
CREATE TABLE "invoice_payments" (
	"id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"data" jsonb NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"last_event_id" text,
	"last_event_created" bigint NOT NULL,
	"source" text NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"invoice_id" text,
	"status" text,
	"amount_paid" bigint,
	CONSTRAINT "invoice_payments_id_stripe_account_livemode_pk" PRIMARY KEY("id","stripe_account","livemode")
);
--> statement-breakpoint
CREATE TABLE "invoices" (
	"id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"data" jsonb NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"last_event_id" text,
	"last_event_created" bigint NOT NULL,
	"source" text NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"customer_id" text,
	"subscription_id" text,
	"status" text,
	"billing_reason" text,
	"currency" text,
	"amount_due" bigint,
	"amount_paid" bigint,
	"period_end_at" timestamp with time zone,
	CONSTRAINT "invoices_id_stripe_account_livemode_pk" PRIMARY KEY("id","stripe_account","livemode")
);
--> statement-breakpoint
CREATE TABLE "payment_intents" (
	"id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"data" jsonb NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"last_event_id" text,
	"last_event_created" bigint NOT NULL,
	"source" text NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"customer_id" text,
	"status" text,
	"amount" bigint,
	"currency" text,
	CONSTRAINT "payment_intents_id_stripe_account_livemode_pk" PRIMARY KEY("id","stripe_account","livemode")
);
--> statement-breakpoint
CREATE TABLE "prices" (
	"id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"data" jsonb NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"last_event_id" text,
	"last_event_created" bigint NOT NULL,
	"source" text NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"product_id" text,
	"active" boolean,
	"lookup_key" text,
	"type" text,
	"currency" text,
	"unit_amount" bigint,
	"recurring_interval" text,
	CONSTRAINT "prices_id_stripe_account_livemode_pk" PRIMARY KEY("id","stripe_account","livemode")
);
--> statement-breakpoint
CREATE TABLE "products" (
	"id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"data" jsonb NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"last_event_id" text,
	"last_event_created" bigint NOT NULL,
	"source" text NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"active" boolean,
	"name" text,
	CONSTRAINT "products_id_stripe_account_livemode_pk" PRIMARY KEY("id","stripe_account","livemode")
);
--> statement-breakpoint
CREATE TABLE "subscription_items" (
	"id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"data" jsonb NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"last_event_id" text,
	"last_event_created" bigint NOT NULL,
	"source" text NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"subscription_id" text NOT NULL,
	"price_id" text,
	"quantity" integer,
	"current_period_end_at" timestamp with time zone,
	CONSTRAINT "subscription_items_id_stripe_account_livemode_pk" PRIMARY KEY("id","stripe_account","livemode")
);
--> statement-breakpoint
CREATE TABLE "subscriptions" (
	"id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"data" jsonb NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"last_event_id" text,
	"last_event_created" bigint NOT NULL,
	"source" text NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"customer_id" text,
	"status" text,
	"current_period_end_at" timestamp with time zone,
	"cancel_at_period_end" boolean,
	"trial_end_at" timestamp with time zone,
	CONSTRAINT "subscriptions_id_stripe_account_livemode_pk" PRIMARY KEY("id","stripe_account","livemode")
);
--> statement-breakpoint
CREATE INDEX "stripe_events_pending_idx" ON "stripe_events" USING btree ("seq") WHERE "stripe_events"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "stripe_events_object_idx" ON "stripe_events" USING btree ("object_type","object_id");--> statement-breakpoint
CREATE INDEX "stripe_events_received_idx" ON "stripe_events" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "stripe_events_dead_idx" ON "stripe_events" USING btree ("id") WHERE "stripe_events"."status" = 'dead';--> statement-breakpoint
CREATE INDEX "sync_refetches_serial_idx" ON "sync_refetches" USING btree ("serial_key");--> statement-breakpoint
CREATE UNIQUE INDEX "account_customers_customer_idx" ON "account_customers" USING btree ("customer_id","stripe_account","livemode");--> statement-breakpoint
CREATE INDEX "billing_meters_event_name_idx" ON "billing_meters" USING btree ("event_name");--> statement-breakpoint
CREATE INDEX "checkout_sessions_customer_idx" ON "checkout_sessions" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "checkout_sessions_account_idx" ON "checkout_sessions" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "customers_email_idx" ON "customers" USING btree ("email");--> statement-breakpoint
CREATE INDEX "invoice_payments_invoice_idx" ON "invoice_payments" USING btree ("invoice_id");--> statement-breakpoint
CREATE INDEX "invoices_customer_idx" ON "invoices" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "invoices_subscription_idx" ON "invoices" USING btree ("subscription_id");--> statement-breakpoint
CREATE INDEX "payment_intents_customer_idx" ON "payment_intents" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "prices_product_idx" ON "prices" USING btree ("product_id");--> statement-breakpoint
CREATE INDEX "prices_lookup_key_idx" ON "prices" USING btree ("lookup_key");--> statement-breakpoint
CREATE INDEX "subscription_items_subscription_idx" ON "subscription_items" USING btree ("subscription_id");--> statement-breakpoint
CREATE INDEX "subscriptions_customer_idx" ON "subscriptions" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "subscriptions_status_idx" ON "subscriptions" USING btree ("status");