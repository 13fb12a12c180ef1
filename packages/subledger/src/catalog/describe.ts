import type { Change, ChangeKind, FieldChange } from './changes.ts';
import { catalogTerms, stripeTerms } from './plan.ts';

/** One line per change, `+` adds, `~` changes, `-` removes (archives or detaches): what an operator reads. */
export function describeChange(change: Change): string {
  switch (change.kind) {
    case 'create_feature':
      return `+ feature ${change.feature} ${quote(change.name)}`;
    case 'update_feature':
      return `~ feature ${change.feature}: ${fieldsText(change.fields)}`;
    case 'create_product':
      return `+ product ${change.plan} ${quote(change.name)}`;
    case 'update_product':
      return `~ product ${change.plan}: ${fieldsText(change.fields)}`;
    case 'create_price':
      return `+ price ${change.price.lookupKey} ${catalogTerms(change.price)} (plan ${change.plan})`;
    case 'replace_price':
      return (
        `~ price ${change.price.lookupKey}: ${change.reasons.join('; ')} ` +
        `(new price ${catalogTerms(change.price)}${change.replaces.active ? `; ${change.replaces.id} archived` : ''})`
      );
    case 'relink_price':
      return (
        `~ price ${change.price.lookupKey}: ${change.reasons.join('; ') || 'no price holds the lookup key'} ` +
        `(${change.target.id} with ${catalogTerms(change.price)} takes it back` +
        `${change.replaces?.active ? `; ${change.replaces.id} archived` : ''})`
      );
    case 'attach_feature':
      return `+ feature ${change.feature} on plan ${change.plan}`;
    case 'detach_feature':
      return `- feature ${change.feature} on plan ${change.plan} (detach)`;
    case 'archive_price':
      return (
        `- price ${change.price.id} ${stripeTerms(change.price)}, lookup key ${change.price.lookup_key ?? 'none'}, ` +
        `of plan ${change.plan || '(none)'} (archive)`
      );
    case 'archive_product':
      return `- product ${change.productId} ${quote(change.name)} of plan ${change.plan || '(none)'} (archive)`;
  }
}

const EFFECT: Record<ChangeKind, 'create' | 'update' | 'remove'> = {
  create_feature: 'create',
  update_feature: 'update',
  create_product: 'create',
  update_product: 'update',
  create_price: 'create',
  replace_price: 'update',
  relink_price: 'update',
  attach_feature: 'create',
  detach_feature: 'remove',
  archive_price: 'remove',
  archive_product: 'remove',
};

/** `3 changes (2 to create, 1 to update)`, or `no changes`. */
export function summarizeChanges(changes: readonly Change[]): string {
  if (changes.length === 0) return 'no changes';
  const counts = { create: 0, update: 0, remove: 0 };
  for (const change of changes) counts[EFFECT[change.kind]] += 1;
  const parts = Object.entries(counts)
    .filter(([, count]) => count > 0)
    .map(([effect, count]) => `${count} to ${effect}`);
  return `${changes.length} change${changes.length === 1 ? '' : 's'} (${parts.join(', ')})`;
}

function fieldsText(fields: FieldChange[]): string {
  return fields.map(({ field, from, to }) => `${field} ${quote(from)} → ${quote(to)}`).join(', ');
}

const quote = (value: string | boolean | null) =>
  typeof value === 'string' ? JSON.stringify(value) : String(value);
