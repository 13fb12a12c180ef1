/**
 * The Subledger API's types, generated from openapi.json by openapi-typescript.
 * Do not edit: run `npm run generate -w @subledger/client` after changing a route.
 */
export type paths = {
    "/v1/check": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * May this account use this feature now, and how much is left
         * @description Answered from the mirror, never from Stripe. A refusal is an answer (`allowed: false`).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            /** @description the check */
            requestBody: {
                content: {
                    "application/json": components["schemas"]["CheckRequest"];
                };
            };
            responses: {
                /** @description the answer */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CheckResult"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/accounts/{account_id}/entitlements": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Everything the account may use now */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the account's state and features */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Entitlements"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/accounts/{account_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The mirror's view of an account: customer, subscriptions, recent invoices */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the account */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Account"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `account_not_found`: no Stripe customer is linked to the account */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/accounts/{account_id}/timeline": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's access transitions, newest first, each with its cause */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the transitions */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Timeline"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/accounts/{account_id}/sync": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Read the account from Stripe now, then answer its view
         * @description For a success page or a manual refresh: the mirror does not wait for the webhooks.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the account, as Stripe has it now */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Account"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `account_not_found`: no Stripe customer is linked to the account */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_refused`: Stripe refused a read (4xx) */
                502: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_unavailable` or `stripe_not_configured` */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/checkout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A Stripe Checkout URL for a plan, a price or a one-time top-up
         * @description Concurrent requests for one account get one customer and one open session. `subscription_exists` (409) when the account already has a live subscription: change its plan instead.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description a retried request with the same key never acts twice; default: derived from the request */
                    "idempotency-key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            /** @description what to buy */
            requestBody: {
                content: {
                    "application/json": components["schemas"]["CheckoutRequest"];
                };
            };
            responses: {
                /** @description the session */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Checkout"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `subscription_exists` */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_refused` */
                502: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_unavailable` */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/checkout/{session_id}/sync": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** The success page: read the session's account from Stripe now; its fresh entitlements */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    session_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the account, synced */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            account: components["schemas"]["Account"];
                            entitlements: components["schemas"]["Entitlements"];
                        };
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `checkout_session_not_found` */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_unavailable` */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/accounts/{account_id}/portal": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A Stripe billing portal session for the account's customer */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description a retried request with the same key never acts twice; default: derived from the request */
                    "idempotency-key"?: string;
                };
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            /** @description where the portal sends the user back */
            requestBody: {
                content: {
                    "application/json": {
                        /** Format: uri */
                        return_url: string;
                    };
                };
            };
            responses: {
                /** @description send the user here */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            url: string;
                        };
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `subscription_not_found`: the account has no live subscription */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `plan_unchanged`: the subscription already is that way */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_refused` */
                502: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_unavailable` or `stripe_not_configured` */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/accounts/{account_id}/subscription/quantity": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Change the number of seats, prorated from now */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description a retried request with the same key never acts twice; default: derived from the request */
                    "idempotency-key"?: string;
                };
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            /** @description the change */
            requestBody: {
                content: {
                    "application/json": {
                        quantity: number;
                    };
                };
            };
            responses: {
                /** @description the subscription, as Stripe has it now */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Subscription"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `subscription_not_found`: the account has no live subscription */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `plan_unchanged`: the subscription already is that way */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_refused` */
                502: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_unavailable` or `stripe_not_configured` */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/accounts/{account_id}/subscription/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel at the end of the paid period (default), or now */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description a retried request with the same key never acts twice; default: derived from the request */
                    "idempotency-key"?: string;
                };
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            /** @description the change */
            requestBody: {
                content: {
                    "application/json": {
                        /** @description true (default): access lasts until the period ends; false: ends now */
                        at_period_end?: boolean;
                    };
                };
            };
            responses: {
                /** @description the subscription, as Stripe has it now */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Subscription"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `subscription_not_found`: the account has no live subscription */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `plan_unchanged`: the subscription already is that way */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_refused` */
                502: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_unavailable` or `stripe_not_configured` */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/accounts/{account_id}/subscription/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Take back a cancel scheduled for the end of the period */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description a retried request with the same key never acts twice; default: derived from the request */
                    "idempotency-key"?: string;
                };
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            /** @description the change */
            requestBody: {
                content: {
                    "application/json": Record<string, never>;
                };
            };
            responses: {
                /** @description the subscription, as Stripe has it now */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Subscription"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `subscription_not_found`: the account has no live subscription */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `plan_unchanged`: the subscription already is that way */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_refused` */
                502: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_unavailable` or `stripe_not_configured` */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/accounts/{account_id}/subscription/plan/preview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** What a plan change would cost and when it would take effect, changing nothing */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            /** @description the plan or price to move to */
            requestBody: {
                content: {
                    "application/json": components["schemas"]["PlanChangeRequest"];
                };
            };
            responses: {
                /** @description the preview */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PlanChangePreview"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `subscription_not_found` */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `plan_unchanged` */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_refused` */
                502: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_unavailable` or `stripe_not_configured` */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/accounts/{account_id}/subscription/plan": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Change the plan: an upgrade now with proration, a downgrade at the end of the period */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description a retried request with the same key never acts twice; default: derived from the request */
                    "idempotency-key"?: string;
                };
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            /** @description the plan or price to move to */
            requestBody: {
                content: {
                    "application/json": components["schemas"]["PlanChangeRequest"];
                };
            };
            responses: {
                /** @description the change */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PlanChange"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `subscription_not_found` */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `plan_unchanged` */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_refused` */
                502: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `stripe_unavailable` or `stripe_not_configured` */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/credits/consume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Spend credits now */
        post: {
            parameters: {
                query?: never;
                header?: {
                    "idempotency-key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            /** @description the request */
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * @description whose pool pays (the team, the building…)
                         * @example acct_42
                         */
                        account_id: string;
                        /**
                         * @description a credits feature of the catalog; default: the catalog's only one
                         * @example ai_credits
                         */
                        feature?: string;
                        amount: number;
                        /** @description required here or as the `Idempotency-Key` header: a retry with it answers the same and spends once */
                        idempotency_key?: string;
                        /** @description who spent, when it is not the account itself (a team member spending the team's pool) */
                        member_id?: string;
                    };
                };
            };
            responses: {
                /** @description done */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CreditBalance"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `insufficient_credits`, with the balance */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["InsufficientCredits"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `hold_not_found`: no open hold has that id (committed, released or expired) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `commit_exceeds_hold` */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/credits/reserve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Set credits aside until committed, released or expired */
        post: {
            parameters: {
                query?: never;
                header?: {
                    "idempotency-key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            /** @description the request */
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * @description whose pool pays (the team, the building…)
                         * @example acct_42
                         */
                        account_id: string;
                        /**
                         * @description a credits feature of the catalog; default: the catalog's only one
                         * @example ai_credits
                         */
                        feature?: string;
                        amount: number;
                        /** @description required here or as the `Idempotency-Key` header: a retry with it answers the same and spends once */
                        idempotency_key?: string;
                        /** @description who spent, when it is not the account itself (a team member spending the team's pool) */
                        member_id?: string;
                        /** @description the hold returns its credits by itself after this long; default 300 */
                        ttl_seconds?: number;
                    };
                };
            };
            responses: {
                /** @description done */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CreditHold"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `insufficient_credits`, with the balance */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["InsufficientCredits"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `hold_not_found`: no open hold has that id (committed, released or expired) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `commit_exceeds_hold` */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/credits/holds/{hold_id}/commit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Spend a hold's credits (all, or `amount` of them and return the rest) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    hold_id: string;
                };
                cookie?: never;
            };
            /** @description how much */
            requestBody?: {
                content: {
                    "application/json": {
                        amount?: number;
                    };
                };
            };
            responses: {
                /** @description committed */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CreditHoldClosed"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `insufficient_credits`, with the balance */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["InsufficientCredits"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `hold_not_found`: no open hold has that id (committed, released or expired) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `commit_exceeds_hold` */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/credits/holds/{hold_id}/release": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Give a hold's credits back (a failed call) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    hold_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description released */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CreditHoldClosed"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `insufficient_credits`, with the balance */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["InsufficientCredits"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `hold_not_found`: no open hold has that id (committed, released or expired) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `commit_exceeds_hold` */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/credits/grant": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Grant credits by hand, with a reason (admin) */
        post: {
            parameters: {
                query?: never;
                header?: {
                    "idempotency-key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            /** @description the grant */
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * @description whose pool pays (the team, the building…)
                         * @example acct_42
                         */
                        account_id: string;
                        /**
                         * @description a credits feature of the catalog; default: the catalog's only one
                         * @example ai_credits
                         */
                        feature?: string;
                        amount: number;
                        /** @description required here or as the `Idempotency-Key` header: a retry with it answers the same and spends once */
                        idempotency_key?: string;
                        reason: string;
                        /** @description Unix seconds; none: never */
                        expires_at?: number;
                    };
                };
            };
            responses: {
                /** @description granted */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CreditGrant"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/accounts/{account_id}/credits": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's credits: each pool's balance and lots, and its latest ledger entries */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the account's credits */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AccountCredits"];
                    };
                };
                /** @description invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description no credential, or one that is not valid here */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description the credential's scope or account does not cover this request */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description too many requests for this credential; see `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
};
export type webhooks = Record<string, never>;
export type components = {
    schemas: {
        CheckResult: {
            allowed: boolean;
            /**
             * @description why: allowed, limit_reached, …
             * @example allowed
             */
            code: string;
            state: components["schemas"]["AccessState"];
            plan: string | null;
            /** @description the plan's limit or grant per period */
            limit: number | null;
            used: number | null;
            remaining: number | null;
            /**
             * @description when the usage window starts again
             * @example 1767225600
             */
            resets_at: number | null;
        };
        /** @enum {string} */
        AccessState: "none" | "incomplete" | "trialing" | "active" | "past_due" | "restricted" | "canceled" | "expired" | "paused";
        Error: {
            error: {
                /** @example invalid_request */
                code: string;
                /** @example quantity must be at least 1 */
                message: string;
                /** @example quantity */
                param?: string;
            };
        };
        CheckRequest: {
            /** @example acct_42 */
            account_id: string;
            /**
             * @description a catalog feature id or a Stripe feature lookup_key
             * @example sso
             */
            feature: string;
            /** @description uses this request would add (metered features); default 1 */
            quantity?: number;
        };
        Entitlements: {
            account_id: string;
            state: components["schemas"]["AccessState"];
            reason: string;
            plan: string | null;
            subscription_id: string | null;
            /** @example 1767225600 */
            ends_at: number | null;
            can_purchase: boolean;
            can_use_credits: boolean;
            features: {
                [key: string]: components["schemas"]["FeatureAccess"];
            };
        };
        FeatureAccess: {
            allowed: boolean;
            code: string;
            /** @description the plan's limit or grant per period */
            limit: number | null;
            used: number | null;
            remaining: number | null;
            /**
             * @description when the usage window starts again
             * @example 1767225600
             */
            resets_at: number | null;
        };
        Account: {
            account_id: string;
            /** @description true in live mode, false in test mode: the mode of the Stripe key, whose mirror is read */
            livemode: boolean;
            customer: {
                id: string;
                email: string | null;
                name: string | null;
            } | null;
            subscriptions: {
                id: string;
                status: string | null;
                items: {
                    price: string | null;
                    quantity: number | null;
                }[];
                /** @example 1767225600 */
                current_period_end: number | null;
                cancel_at_period_end: boolean | null;
                /** @example 1767225600 */
                trial_end: number | null;
            }[];
            invoices: {
                id: string;
                status: string | null;
                billing_reason: string | null;
                currency: string | null;
                amount_due: number | null;
                amount_paid: number | null;
                subscription: string | null;
                /** @example 1767225600 */
                created: number | null;
            }[];
            /** @description lookup keys of active Stripe entitlements */
            entitlements: string[];
            /** @example 1767225600 */
            synced_at: number | null;
        };
        Timeline: {
            account_id: string;
            /** @description the latest 100 credit ledger entries, newest first */
            credits: components["schemas"]["CreditEntry"][];
            transitions: {
                from: components["schemas"]["AccessState"];
                to: components["schemas"]["AccessState"];
                reason: string;
                subscription_id: string | null;
                /** @enum {string} */
                cause: "event" | "fetch" | "clock";
                cause_event_id: string | null;
                /** @example 1767225600 */
                at: number;
            }[];
        };
        CreditEntry: {
            id: number;
            feature: string;
            /** @description grant, spend, hold, release or expire */
            kind: string;
            /** @description signed: out of the pool is negative */
            amount: number;
            lot_id: string;
            hold_id: string | null;
            /** @description who spent, when a member spent the pool */
            spender: string | null;
            /** @example 1767225600 */
            at: number;
        };
        Checkout: {
            session_id: string;
            /** @description send the buyer here */
            url: string;
            customer_id: string;
            /** @description an open session of the same purchase was handed out again */
            reused: boolean;
        };
        CheckoutRequest: {
            /**
             * @description the paying account (team, building…)
             * @example acct_42
             */
            account_id: string;
            /**
             * @description a catalog plan id
             * @example pro
             */
            plan?: string;
            /**
             * @description a price id or lookup_key (instead of plan)
             * @example pro_monthly
             */
            price?: string;
            /**
             * @description `payment` for one-time purchases such as credit top-ups; default subscription
             * @enum {string}
             */
            mode?: "subscription" | "payment";
            quantity?: number;
            trial_days?: number;
            /** Format: uri */
            success_url: string;
            /** Format: uri */
            cancel_url: string;
            metadata?: {
                [key: string]: string;
            };
            /** @description with `mode: payment`: the credits each unit buys, granted once the payment succeeds */
            credits?: {
                /**
                 * @description a credits feature
                 * @example ai_credits
                 */
                feature: string;
                amount: number;
            };
        };
        Subscription: {
            id: string;
            status: string;
            price: string;
            quantity: number;
            cancel_at_period_end: boolean;
            /** @description when a scheduled cancel takes effect */
            cancel_at: number | null;
        };
        PlanChangePreview: {
            /**
             * @description an upgrade is now, a downgrade at period end
             * @enum {string}
             */
            timing: "now" | "period_end";
            /** @description when the change takes effect (Unix seconds) */
            effective_at: number;
            /** @description invoiced now (upgrade) or at period end (downgrade) */
            amount_due: number;
            currency: string;
        };
        PlanChangeRequest: {
            /**
             * @description a catalog plan id
             * @example pro
             */
            plan?: string;
            /** @description a price id or lookup_key (instead of plan) */
            price?: string;
            /** @description default: the current quantity */
            quantity?: number;
        };
        PlanChange: {
            id: string;
            status: string;
            price: string;
            quantity: number;
            cancel_at_period_end: boolean;
            /** @description when a scheduled cancel takes effect */
            cancel_at: number | null;
            /**
             * @description an upgrade is now, a downgrade at period end
             * @enum {string}
             */
            timing: "now" | "period_end";
            /** @description when the change takes effect (Unix seconds) */
            effective_at: number;
        };
        CreditBalance: {
            feature: string;
            /** @description credits the pool may spend now */
            balance: number;
        };
        InsufficientCredits: components["schemas"]["Error"] & {
            /** @description credits the pool may spend now */
            balance: number;
        };
        CreditHold: {
            feature: string;
            /** @description credits the pool may spend now */
            balance: number;
            hold_id: string;
            expires_at: number;
        };
        CreditHoldClosed: {
            feature: string;
            /** @description credits the pool may spend now */
            balance: number;
            hold_id: string;
        };
        CreditGrant: {
            feature: string;
            /** @description credits the pool may spend now */
            balance: number;
            lot_id: string;
            granted: boolean;
        };
        AccountCredits: {
            account_id: string;
            pools: {
                feature: string;
                balance: number;
                held: number;
                lots: {
                    id: string;
                    amount: number;
                    remaining: number;
                    expires_at: number | null;
                    source: {
                        kind: string;
                        id: string;
                    };
                    reason: string | null;
                }[];
            }[];
            /** @description the latest 50, newest first */
            entries: components["schemas"]["CreditEntry"][];
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
};
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
