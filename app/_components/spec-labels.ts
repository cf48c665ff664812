'use client';

import { useMemo } from 'react';
import { useTranslations } from 'use-intl';
import { SCALAR_FIELDS, type ScalarField } from '@/server/protocol/spec';
import type { ProblemText } from '@/app/_lib/useSpec';

/** The spec's "nothing here" value (an empty feature list, a layer that does not exist). */
const NONE = '(none)';

function isScalarField(path: string): path is ScalarField {
  return Object.hasOwn(SCALAR_FIELDS, path);
}

export interface SpecLabels {
  /** Display name of a scalar field (messages spec.fields.*, nested like the path). */
  field(path: ScalarField): string;
  /** Display name of a spec-change path: a scalar field, "features" or "layers.N". */
  change(path: string): string;
  /** Display name of an enum option, or the value itself (numbers, layer summaries). */
  option(value: string): string;
}

/**
 * Names of the spec's fields and options in the current language, shared by the editor and the
 * spec-change notice.
 */
export function useSpecLabels(): SpecLabels {
  const t = useTranslations('spec');
  return useMemo(() => {
    const field = (path: ScalarField) => t(`fields.${path}`);
    return {
      field,
      change: (path) => {
        const layer = /^layers\.(\d+)$/.exec(path);
        if (layer) return t('fields.layer', { n: layer[1]! });
        if (path === 'features') return t('fields.features');
        return isScalarField(path) ? field(path) : path;
      },
      option: (value) => {
        if (value === NONE) return t('drift.none');
        // Values with dots (numbers) would read as nested keys: only plain words are options.
        const key = `options.${value}` as Parameters<typeof t>[0];
        return /^\w+$/.test(value) && t.has(key) ? t(key) : value;
      },
    };
  }, [t]);
}

/** Turns the spec editor's problems (useSpec) into text in the current language. */
export function useProblemText(): (problem: ProblemText) => string {
  const t = useTranslations('spec.problems');
  return useMemo(
    () => (problem: ProblemText) => {
      if ('text' in problem) return problem.text;
      const key = problem.key as Parameters<typeof t>[0];
      return t.has(key) ? t(key, problem.values as never) : problem.key;
    },
    [t],
  );
}
