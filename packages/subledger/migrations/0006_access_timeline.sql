CREATE TABLE "access_transitions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"from_state" text NOT NULL,
	"to_state" text NOT NULL,
	"reason" text NOT NULL,
	"subscription_id" text,
	"cause_event_id" text,
	"cause" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "account_access" (
	"account_id" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"state" text NOT NULL,
	"reason" text NOT NULL,
	"subscription_id" text,
	"changes_at" timestamp with time zone,
	"evaluated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "account_access_account_id_stripe_account_livemode_pk" PRIMARY KEY("account_id","stripe_account","livemode")
);
--> statement-breakpoint
CREATE INDEX "access_transitions_account_idx" ON "access_transitions" USING btree ("account_id","stripe_account","livemode","at");--> statement-breakpoint
CREATE INDEX "account_access_changes_idx" ON "account_access" USING btree ("changes_at");