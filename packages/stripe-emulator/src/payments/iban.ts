/**
 * IBANs, as SEPA Direct Debit payment methods read them: check the length and the ISO 13616 check
 * digits, then cut the bank and branch codes out of the country's BBAN. Pure; no I/O.
 */

type BbanLayout = {
  length: number;
  /** Characters before the bank code (Italy's and San Marino's CIN). */
  skip: number;
  bank: number;
  /** 0 where the country has no branch code: Stripe then answers `branch_code: ""`. */
  branch: number;
};

const layout = (length: number, bank: number, branch = 0, skip = 0): BbanLayout => ({
  length,
  skip,
  bank,
  branch,
});

/** The SEPA countries' IBAN formats (SWIFT's IBAN registry): total length, bank and branch code widths. */
// biome-ignore format: one country per line reads as a table
const LAYOUTS: Record<string, BbanLayout> = {
  AT: layout(20, 5),
  BE: layout(16, 3),
  BG: layout(22, 4, 4),
  CH: layout(21, 5),
  CY: layout(28, 3, 5),
  CZ: layout(24, 4),
  DE: layout(22, 8),
  DK: layout(18, 4),
  EE: layout(20, 2),
  ES: layout(24, 4, 4),
  FI: layout(18, 3),
  FR: layout(27, 5, 5),
  GB: layout(22, 4, 6),
  GR: layout(27, 3, 4),
  HR: layout(21, 7),
  HU: layout(28, 3, 4),
  IE: layout(22, 4, 6),
  IS: layout(26, 4),
  IT: layout(27, 5, 5, 1),
  LI: layout(21, 5),
  LT: layout(20, 5),
  LU: layout(20, 3),
  LV: layout(21, 4),
  MC: layout(27, 5, 5),
  MT: layout(31, 4, 5),
  NL: layout(18, 4),
  NO: layout(15, 4),
  PL: layout(28, 8),
  PT: layout(25, 4, 4),
  RO: layout(24, 4),
  SE: layout(24, 3),
  SI: layout(19, 5),
  SK: layout(24, 4),
  SM: layout(27, 5, 5, 1),
};

export type Iban = { iban: string; country: string; bankCode: string; branchCode: string; last4: string };

export type IbanProblem = 'unsupported_country' | 'wrong_length' | 'bad_check_digits';

/** ISO 7064 mod 97-10 over the IBAN rearranged with its first four characters last. */
function checkDigitsHold(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const value = Number.parseInt(char, 36);
    if (Number.isNaN(value)) return false;
    remainder = Number(`${remainder}${value}`) % 97;
  }
  return remainder === 1;
}

/** Reads an IBAN as typed by a customer (spaces and lower case allowed), or says what is wrong with it. */
export function parseIban(input: string): Iban | IbanProblem {
  const iban = input.replace(/\s+/g, '').toUpperCase();
  const country = iban.slice(0, 2);
  const format = LAYOUTS[country];
  if (!format) return 'unsupported_country';
  if (iban.length !== format.length || !/^[A-Z0-9]+$/.test(iban)) return 'wrong_length';
  if (!checkDigitsHold(iban)) return 'bad_check_digits';
  const bankStart = 4 + format.skip;
  const branchStart = bankStart + format.bank;
  return {
    iban,
    country,
    bankCode: iban.slice(bankStart, branchStart),
    branchCode: iban.slice(branchStart, branchStart + format.branch),
    last4: iban.slice(-4),
  };
}
