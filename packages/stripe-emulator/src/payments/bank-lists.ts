/**
 * The banks Stripe accepts for the bank-redirect payment methods (`eps[bank]`, `fpx[bank]`,
 * `ideal[bank]`, `p24[bank]`), as the SDK's PaymentMethodCreateParams enumerate them.
 */

// biome-ignore format: long enumerations read better packed
export const EPS_BANKS = ['arzte_und_apotheker_bank', 'austrian_anadi_bank_ag', 'bank_austria', 'bankhaus_carl_spangler', 'bankhaus_schelhammer_und_schattera_ag', 'bawag_psk_ag', 'bks_bank_ag', 'brull_kallmus_bank_ag', 'btv_vier_lander_bank', 'capital_bank_grawe_gruppe_ag', 'deutsche_bank_ag', 'dolomitenbank', 'easybank_ag', 'erste_bank_und_sparkassen', 'hypo_alpeadriabank_international_ag', 'hypo_bank_burgenland_aktiengesellschaft', 'hypo_noe_lb_fur_niederosterreich_u_wien', 'hypo_oberosterreich_salzburg_steiermark', 'hypo_tirol_bank_ag', 'hypo_vorarlberg_bank_ag', 'marchfelder_bank', 'oberbank_ag', 'raiffeisen_bankengruppe_osterreich', 'schoellerbank_ag', 'sparda_bank_wien', 'volksbank_gruppe', 'volkskreditbank_ag', 'vr_bank_braunau'] as const;

// biome-ignore format: long enumerations read better packed
export const FPX_BANKS = ['affin_bank', 'agrobank', 'alliance_bank', 'ambank', 'bank_islam', 'bank_muamalat', 'bank_of_china', 'bank_rakyat', 'bnp_paribas', 'bsn', 'cimb', 'citibank', 'deutsche_bank', 'hong_leong_bank', 'hsbc', 'kfh', 'maybank2e', 'maybank2u', 'mbsb_bank', 'ocbc', 'pb_enterprise', 'public_bank', 'rhb', 'standard_chartered', 'uob'] as const;

// biome-ignore format: long enumerations read better packed
export const P24_BANKS = ['alior_bank', 'bank_millennium', 'bank_nowy_bfg_sa', 'bank_pekao_sa', 'banki_spbdzielcze', 'blik', 'bnp_paribas', 'boz', 'citi_handlowy', 'credit_agricole', 'envelobank', 'etransfer_pocztowy24', 'getin_bank', 'ideabank', 'ing', 'inteligo', 'mbank_mtransfer', 'nest_przelew', 'noble_pay', 'pbac_z_ipko', 'plus_bank', 'santander_przelew24', 'tmobile_usbugi_bankowe', 'toyota_bank', 'velobank', 'volkswagen_bank'] as const;

/** Each iDEAL bank and the BIC Stripe reports for it (`ideal: {bank: 'abn_amro', bic: 'ABNANL2A'}`). */
// biome-ignore format: one bank per line reads as a table
export const IDEAL_BICS = {
  abn_amro: 'ABNANL2A',
  adyen: 'ADYBNL2A',
  asn_bank: 'ASNBNL21',
  bunq: 'BUNQNL2A',
  buut: 'BUUTNL2A',
  finom: 'FNOMNL22',
  handelsbanken: 'HANDNL2A',
  ing: 'INGBNL2A',
  knab: 'KNABNL2H',
  mollie: 'MLLENL2A',
  moneyou: 'MOYONL21',
  n26: 'NTSBDEB1',
  nn: 'NNBANL2G',
  rabobank: 'RABONL2U',
  regiobank: 'RBRBNL21',
  revolut: 'REVOLT21',
  sns_bank: 'SNSBNL2A',
  triodos_bank: 'TRIONL2U',
  van_lanschot: 'FVLBNL22',
  yoursafe: 'BITSNL2A',
} as const;

export const IDEAL_BANKS = Object.keys(IDEAL_BICS) as [
  keyof typeof IDEAL_BICS,
  ...(keyof typeof IDEAL_BICS)[],
];

/**
 * Bank names Stripe reports for the routing numbers of its test accounts (the acss_debit recording
 * shows institution 000 as "STRIPE TEST BANK"). Real banks' names the emulator cannot know: null.
 */
export const TEST_BANK_NAME = 'STRIPE TEST BANK';
export const ACSS_TEST_INSTITUTIONS = new Set(['000']);
export const ACH_TEST_ROUTING_NUMBERS = new Set(['110000000']);
