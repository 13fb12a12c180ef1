CREATE TABLE "sync_checkpoints" (
	"job" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"kind" text NOT NULL,
	"last_id" text,
	"objects" bigint DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "sync_checkpoints_job_stripe_account_livemode_kind_pk" PRIMARY KEY("job","stripe_account","livemode","kind"),
	CONSTRAINT "sync_checkpoints_objects_check" CHECK ("sync_checkpoints"."objects" >= 0)
);
