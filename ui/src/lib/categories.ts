// The inbox categories in tab order with the names users read.
import type { Category } from '../bindings/Category';

export const CATEGORIES: readonly { id: Category; label: string }[] = [
  { id: 'primary', label: 'Primary' },
  { id: 'social', label: 'Social' },
  { id: 'promotions', label: 'Promotions' },
  { id: 'updates', label: 'Updates' },
  { id: 'forums', label: 'Forums' },
];

export function categoryLabel(c: Category | null): string {
  return CATEGORIES.find((x) => x.id === c)?.label ?? 'Uncategorised';
}
