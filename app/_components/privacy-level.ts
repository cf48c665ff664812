/**
 * A spent ε in three words: ≤ 1 is strong privacy, ≤ 10 what deployed DP training commonly
 * reports, above that the guarantee says little. Shared by the spec's preview and the live budget.
 */
export type PrivacyLevel = 'strong' | 'moderate' | 'weak';

export function privacyLevel(epsilon: number): PrivacyLevel {
  return epsilon <= 1 ? 'strong' : epsilon <= 10 ? 'moderate' : 'weak';
}

export const LEVEL_STYLE: Record<PrivacyLevel, string> = {
  strong: 'bg-emerald-50 text-emerald-800',
  moderate: 'bg-amber-50 text-amber-800',
  weak: 'bg-rose-50 text-rose-800',
};
