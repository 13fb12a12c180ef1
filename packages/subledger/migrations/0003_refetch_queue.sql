ALTER TABLE "sync_refetches" ADD COLUMN "available_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_refetches" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_refetches" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "sync_refetches" ADD COLUMN "leased_by" text;--> statement-breakpoint
CREATE INDEX "sync_refetches_ready_idx" ON "sync_refetches" USING btree ("available_at");