/** Shared Tailwind class strings, so forms and panels look the same everywhere. */
export const ui = {
  card: 'rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:p-5',
  cardTitle: 'text-lg font-semibold text-slate-900',
  label: 'block text-sm font-medium text-slate-700',
  input:
    'block h-11 w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-base text-slate-900 shadow-xs placeholder:text-slate-400 focus:border-brand-500 focus:outline-none focus:ring-3 focus:ring-brand-100 disabled:bg-slate-100 disabled:text-slate-500 aria-invalid:border-rose-500 aria-invalid:focus:ring-rose-100',
  button:
    'inline-flex items-center justify-center gap-2 rounded-lg px-4 py-2 text-base font-semibold transition-colors disabled:cursor-not-allowed disabled:opacity-55',
  primary: 'bg-brand-600 text-white hover:bg-brand-700 disabled:hover:bg-brand-600',
  secondary: 'border border-slate-300 bg-white text-slate-800 hover:bg-slate-50 disabled:hover:bg-white',
  ghost: 'text-slate-600 hover:bg-slate-100 hover:text-slate-900',
  iconButton:
    'inline-flex h-9 w-9 items-center justify-center rounded-lg border border-slate-300 bg-white text-slate-700 hover:bg-slate-50 disabled:cursor-not-allowed disabled:opacity-40',
  error: 'text-sm font-medium text-rose-700',
  hint: 'text-sm text-slate-500',
} as const;

export function cx(...parts: (string | false | null | undefined)[]): string {
  return parts.filter(Boolean).join(' ');
}
