import { z } from 'zod';
import { emptyable, list, oneOf, str } from '../core/params.ts';

/** Parameter shapes that several resources share. */
export const addressParam = z.strictObject({
  city: z.string().optional(),
  country: z.string().optional(),
  line1: z.string().optional(),
  line2: z.string().optional(),
  postal_code: z.string().optional(),
  state: z.string().optional(),
});

export const shippingParam = z.strictObject({
  address: addressParam,
  name: str(),
  phone: z.string().optional(),
});

export const invoiceSettingsParam = z.strictObject({
  custom_fields: emptyable(list(z.strictObject({ name: str(), value: str() }))).optional(),
  default_payment_method: z.string().optional(),
  footer: z.string().optional(),
  rendering_options: emptyable(
    z.strictObject({
      amount_tax_display: emptyable(oneOf(['exclude_tax', 'include_inclusive_tax'])).optional(),
      template: z.string().optional(),
    }),
  ).optional(),
});

export type AddressInput = z.infer<typeof addressParam>;

export function toAddress(input: AddressInput) {
  return {
    city: input.city ?? null,
    country: input.country ?? null,
    line1: input.line1 ?? null,
    line2: input.line2 ?? null,
    postal_code: input.postal_code ?? null,
    state: input.state ?? null,
  };
}
