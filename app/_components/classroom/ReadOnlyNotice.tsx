'use client';

import { useTranslations } from 'use-intl';

/** Why this browser cannot edit the shared spec: it watches (viewer), or the owner locked it. */
export type ReadOnlyReason = 'viewer' | 'locked';

/** A notice above the read-only spec editor. */
export function ReadOnlyNotice({ reason }: { reason: ReadOnlyReason }) {
  const t = useTranslations('classroom.readOnly');
  return (
    <div role="status" data-testid="read-only-notice" data-reason={reason} className="mt-3 flex items-start gap-2.5 rounded-lg border border-amber-200 bg-amber-50 px-3 py-2 text-amber-900">
      <svg aria-hidden viewBox="0 0 20 20" className="mt-0.5 h-4 w-4 shrink-0 fill-current">
        {reason === 'locked' ? (
          <path d="M10 2a4 4 0 00-4 4v2H5a1 1 0 00-1 1v8a1 1 0 001 1h10a1 1 0 001-1V9a1 1 0 00-1-1h-1V6a4 4 0 00-4-4zm-2 6V6a2 2 0 114 0v2H8z" />
        ) : (
          <path d="M10 4C5.5 4 2 10 2 10s3.5 6 8 6 8-6 8-6-3.5-6-8-6zm0 9.5A3.5 3.5 0 1110 6.5a3.5 3.5 0 010 7zm0-5.5a2 2 0 100 4 2 2 0 000-4z" />
        )}
      </svg>
      <div>
        <p className="font-semibold">{t(`${reason}.title`)}</p>
        <p className="text-sm">{t(`${reason}.text`)}</p>
      </div>
    </div>
  );
}
