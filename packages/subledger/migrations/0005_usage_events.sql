CREATE TABLE "usage_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"feature_id" text NOT NULL,
	"quantity" bigint NOT NULL,
	"idempotency_key" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "usage_events_key_idx" ON "usage_events" USING btree ("stripe_account","livemode","idempotency_key");--> statement-breakpoint
CREATE INDEX "usage_events_window_idx" ON "usage_events" USING btree ("account_id","stripe_account","livemode","feature_id","occurred_at");