-- Links stored before "stated_at" existed hold 0, so every newer statement wins over them and an eager
-- sync of their account reads checkout sessions from the beginning. Each is given the time of the
-- statement that made it, as the mirror holds it: its customer's creation, or the newest completed
-- checkout session naming the account on that customer. A link whose statement the mirror no longer
-- holds keeps 0.
UPDATE "account_customers" AS l SET "stated_at" = (c."data"->>'created')::bigint
  FROM "customers" AS c
  WHERE l."stated_at" = 0 AND l."source" = 'customer_metadata'
    AND c."id" = l."customer_id" AND c."stripe_account" = l."stripe_account" AND c."livemode" = l."livemode"
    AND jsonb_typeof(c."data"->'created') = 'number';--> statement-breakpoint
UPDATE "account_customers" AS l SET "stated_at" = s."created"
  FROM (
    SELECT "account_id", "stripe_account", "livemode", "customer_id", max(("data"->>'created')::bigint) AS "created"
    FROM "checkout_sessions"
    WHERE "status" = 'complete' AND jsonb_typeof("data"->'created') = 'number'
    GROUP BY "account_id", "stripe_account", "livemode", "customer_id"
  ) AS s
  WHERE l."stated_at" = 0 AND l."source" = 'checkout_session'
    AND s."account_id" = l."account_id" AND s."customer_id" = l."customer_id"
    AND s."stripe_account" = l."stripe_account" AND s."livemode" = l."livemode";
