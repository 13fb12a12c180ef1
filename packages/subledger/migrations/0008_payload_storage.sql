-- Payloads and mirror objects are stored uncompressed (still out of line when large): pglz, the only
-- method every server has, cost more CPU on each insert and read than the extra bytes cost to write.
ALTER TABLE "stripe_events" ALTER COLUMN "payload" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "customers" ALTER COLUMN "data" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "products" ALTER COLUMN "data" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "prices" ALTER COLUMN "data" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "subscriptions" ALTER COLUMN "data" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "subscription_items" ALTER COLUMN "data" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "invoices" ALTER COLUMN "data" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "invoice_payments" ALTER COLUMN "data" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "checkout_sessions" ALTER COLUMN "data" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "payment_intents" ALTER COLUMN "data" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "active_entitlements" ALTER COLUMN "data" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "billing_meters" ALTER COLUMN "data" SET STORAGE EXTERNAL;
