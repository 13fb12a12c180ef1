import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';

/** The one error body of the API: a machine-readable code, a sentence for people, the field at fault. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'invalid_request' }),
      message: z.string().openapi({ example: 'quantity must be at least 1' }),
      param: z.string().optional().openapi({ example: 'quantity' }),
    }),
  })
  .openapi('Error');

export type ErrorBody = z.infer<typeof errorSchema>;

export const problem = <S extends ContentfulStatusCode>(
  c: Context,
  status: S,
  code: string,
  message: string,
  param?: string,
) => c.json({ error: { code, message, ...(param ? { param } : {}) } } satisfies ErrorBody, status);

type ValidationResult = { success: boolean; error?: ZodError; target: string };

/**
 * What a request that fails its schema gets: 400 with the first issue. A bad path parameter is named in
 * the code (`invalid_account_id`); a bad body or query is `invalid_request` with the field as `param`.
 */
export function validationProblem(result: ValidationResult, c: Context): Response | undefined {
  if (result.success || !result.error) return undefined;
  const issue = result.error.issues[0];
  const param = issue?.path.map(String).join('.') || undefined;
  const detail = issue?.message ?? 'is invalid';
  if (result.target === 'param' && param) return problem(c, 400, `invalid_${param}`, `${param} ${detail}`);
  const message = param
    ? `${param} ${detail}`
    : `the ${result.target === 'json' ? 'body' : 'request'} ${detail}`;
  return problem(c, 400, 'invalid_request', message, param);
}

const HTTP_PROBLEMS: Partial<Record<number, { code: string; message: string }>> = {
  400: { code: 'invalid_json', message: 'the body must be a JSON object' },
  413: { code: 'payload_too_large', message: 'the body is too large' },
  415: { code: 'unsupported_media_type', message: 'send the body as application/json' },
};

/** A refusal thrown from deep inside a handler (`refuse`), answered as any other problem. */
export function refusal(
  status: ContentfulStatusCode,
  code: string,
  message: string,
  body: object = { error: { code, message } },
): HTTPException {
  return new HTTPException(status, { res: Response.json(body, { status }) });
}

/** The coded answer to an error Hono itself raised (malformed JSON, a wrong content type), if it is one. */
export function httpProblem(error: unknown, c: Context): Response | undefined {
  if (!(error instanceof HTTPException)) return undefined;
  if (error.res) {
    // Through the context, so that the answer keeps the headers set for every answer (Request-Id).
    const refused = error.getResponse();
    return c.newResponse(
      refused.body,
      refused.status as ContentfulStatusCode,
      Object.fromEntries(refused.headers),
    );
  }
  const known = HTTP_PROBLEMS[error.status];
  if (known) return problem(c, error.status as ContentfulStatusCode, known.code, known.message);
  return problem(c, error.status as ContentfulStatusCode, 'request_refused', error.message || 'refused');
}
