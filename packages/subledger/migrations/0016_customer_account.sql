ALTER TABLE "customers" ADD COLUMN "account_id" text;--> statement-breakpoint
UPDATE "customers" SET "account_id" = nullif("data"->'metadata'->>'subledger_account_id', '')
  WHERE jsonb_typeof("data"->'metadata'->'subledger_account_id') = 'string';--> statement-breakpoint
CREATE INDEX "customers_account_idx" ON "customers" USING btree ("account_id");
