CREATE TABLE "credit_grant_requests" (
	"source_kind" text NOT NULL,
	"source_id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"handled_at" timestamp with time zone,
	"outcome" text,
	CONSTRAINT "credit_grant_requests_stripe_account_livemode_source_kind_source_id_pk" PRIMARY KEY("stripe_account","livemode","source_kind","source_id")
);
--> statement-breakpoint
ALTER TABLE "credit_lots" ADD COLUMN "rolled_over_at" bigint;--> statement-breakpoint
CREATE INDEX "credit_grant_requests_pending_idx" ON "credit_grant_requests" USING btree ("next_attempt_at") WHERE "credit_grant_requests"."handled_at" is null;--> statement-breakpoint
CREATE INDEX "credit_entries_account_idx" ON "credit_entries" USING btree ("account_id","stripe_account","livemode","id");--> statement-breakpoint
CREATE INDEX "credit_entries_lot_idx" ON "credit_entries" USING btree ("lot_id");