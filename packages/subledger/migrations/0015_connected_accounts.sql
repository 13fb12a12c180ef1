CREATE TABLE "connected_accounts" (
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"deauthorized_at" timestamp with time zone,
	"event_created" bigint NOT NULL,
	"event_id" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "connected_accounts_stripe_account_livemode_pk" PRIMARY KEY("stripe_account","livemode"),
	CONSTRAINT "connected_accounts_not_platform_check" CHECK ("connected_accounts"."stripe_account" <> 'platform')
);
