import { cx } from './ui';

/**
 * A determinate progress bar: a track and its fill at `value` (0–1), announced as a percentage.
 * `className` sizes and places the track, `barClassName` colours the fill.
 */
export function ProgressBar({
  label,
  value,
  className,
  barClassName = 'bg-brand-600',
  pulse = false,
  testId,
}: {
  label: string;
  value: number;
  className: string;
  barClassName?: string;
  pulse?: boolean;
  testId?: string;
}) {
  const percent = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <div data-testid={testId} role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} className={cx('overflow-hidden', className)}>
      <div className={cx('h-full rounded-full transition-[width] duration-300', barClassName, pulse && 'animate-pulse')} style={{ width: `${percent}%` }} />
    </div>
  );
}
