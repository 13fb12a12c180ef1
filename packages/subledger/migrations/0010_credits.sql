CREATE TABLE "credit_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"credit_type" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"key" text NOT NULL,
	"kind" text NOT NULL,
	"lot_id" text NOT NULL,
	"hold_id" text,
	"amount" bigint NOT NULL,
	"spender" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credit_holds" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"credit_type" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"amount" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"allocations" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credit_lots" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"credit_type" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"amount" bigint NOT NULL,
	"remaining" bigint NOT NULL,
	"expires_at" bigint,
	"created_at" bigint NOT NULL,
	"source_kind" text NOT NULL,
	"source_id" text NOT NULL,
	"reason" text,
	CONSTRAINT "credit_lots_remaining_check" CHECK ("credit_lots"."remaining" >= 0 and "credit_lots"."remaining" <= "credit_lots"."amount")
);
--> statement-breakpoint
CREATE TABLE "credit_operations" (
	"account_id" text NOT NULL,
	"credit_type" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"key" text NOT NULL,
	"outcome" jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "credit_operations_account_id_credit_type_stripe_account_livemode_key_pk" PRIMARY KEY("account_id","credit_type","stripe_account","livemode","key")
);
--> statement-breakpoint
CREATE TABLE "credit_pools" (
	"account_id" text NOT NULL,
	"credit_type" text NOT NULL,
	"stripe_account" text NOT NULL,
	"livemode" boolean NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "credit_pools_account_id_credit_type_stripe_account_livemode_pk" PRIMARY KEY("account_id","credit_type","stripe_account","livemode")
);
--> statement-breakpoint
CREATE INDEX "credit_entries_pool_idx" ON "credit_entries" USING btree ("account_id","credit_type","stripe_account","livemode","id");--> statement-breakpoint
CREATE INDEX "credit_holds_pool_idx" ON "credit_holds" USING btree ("account_id","credit_type","stripe_account","livemode");--> statement-breakpoint
CREATE UNIQUE INDEX "credit_lots_source_idx" ON "credit_lots" USING btree ("stripe_account","livemode","credit_type","source_kind","source_id");--> statement-breakpoint
CREATE INDEX "credit_lots_pool_idx" ON "credit_lots" USING btree ("account_id","credit_type","stripe_account","livemode");