'use client';

import { useId, useState } from 'react';
import { useTranslations } from 'use-intl';
import type { RunSummary } from '@/app/_lib/api';
import { useGlobalModel, type GlobalModelView } from '@/app/_lib/useGlobalModel';
import type { Training } from '@/app/_lib/useTraining';
import type { DigitsEvaluation } from '@/workers/explain-messages';
import { cx, ui } from '../ui';
import { ConfusionMatrix } from './ConfusionMatrix';
import { DecisionBoundary, usePlaneEvaluation } from './DecisionBoundary';
import { NeuronGrid } from './NeuronGrid';
import { RunCurves } from './RunCurves';
import { SamplePredictions } from './SamplePredictions';
import { TryModel } from './TryModel';
import { ofRun, useExplainWorker, useLatestEvaluation } from './useExplain';

const SAMPLES = 16;

/** The held-out confusion counts and sample predictions of the latest MNIST model, from the explain worker. */
function useDigitsEvaluation(model: GlobalModelView | null) {
  const worker = useExplainWorker(true);
  return useLatestEvaluation<DigitsEvaluation>(model, worker, async (w, m) => {
    const { digits: value, ms } = await w.digits(m, SAMPLES);
    return { value, ms };
  });
}

function PlaneViews({ model }: { model: GlobalModelView | null }) {
  const t = useTranslations('explain');
  const plane = usePlaneEvaluation(model);
  const shown = ofRun(model, plane);
  return (
    <div className="grid grid-cols-1 gap-4 sm:grid-cols-[minmax(0,360px)_minmax(0,1fr)]">
      <DecisionBoundary model={model} plane={plane} />
      <div>
        <h3 className="text-sm font-semibold text-slate-700">{t('neurons.title')}</h3>
        <p className="mb-2 text-xs text-slate-500">{t('neurons.hint')}</p>
        <NeuronGrid model={model} plane={shown} />
        {plane.error && <p className={cx(ui.error, 'mt-2')}>{t('evalError', { message: plane.error })}</p>}
      </div>
    </div>
  );
}

/** The held-out confusion matrix alone, evaluated in the explain worker (the projector's MNIST view). */
export function ConfusionView({ model }: { model: GlobalModelView | null }) {
  const digits = useDigitsEvaluation(model);
  const shown = ofRun(model, digits);
  return (
    <div data-testid="confusion-view" data-model-key={shown ? digits.key : ''}>
      <ConfusionMatrix digits={shown} />
    </div>
  );
}

function DigitViews({ model }: { model: GlobalModelView | null }) {
  const t = useTranslations('explain');
  const worker = useExplainWorker(true);
  const digits = useDigitsEvaluation(model);
  const shown = ofRun(model, digits);
  return (
    <div className="space-y-5" data-testid="digit-views" data-model-key={shown ? digits.key : ''} data-eval-ms={digits.computeMs?.toFixed(1) ?? ''}>
      {digits.error && <p className={ui.error}>{t('evalError', { message: digits.error })}</p>}
      <section>
        <h3 className="mb-1 text-sm font-semibold text-slate-700">{t('confusion.title')}</h3>
        <ConfusionMatrix digits={shown} />
      </section>
      <section>
        <h3 className="mb-2 text-sm font-semibold text-slate-700">{t('samples.title')}</h3>
        <SamplePredictions samples={shown?.samples ?? null} count={SAMPLES} />
      </section>
      <section>
        <h3 className="mb-2 text-sm font-semibold text-slate-700">{t('tryModel.title')}</h3>
        <TryModel model={model} worker={worker} />
      </section>
    </div>
  );
}

function PastRuns({ slug, runs, liveRunId }: { slug: string; runs: RunSummary[]; liveRunId: string | null }) {
  const t = useTranslations('explain.curves');
  const selectId = useId();
  const sorted = [...runs].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const past = sorted.filter((r) => r.id !== liveRunId);
  const [chosen, setChosen] = useState<string | null>(null);
  const runId = past.some((r) => r.id === chosen) ? chosen : (past[0]?.id ?? null);
  if (!runId) return null;
  return (
    <section className="mt-5 border-t border-slate-100 pt-4" aria-labelledby={`${selectId}-title`}>
      <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
        <h3 id={`${selectId}-title`} className="text-sm font-semibold text-slate-700">
          {t('title')}
        </h3>
        <label className="flex items-center gap-2 text-sm text-slate-600" htmlFor={selectId}>
          {t('pick')}
          <select id={selectId} className="h-9 rounded-lg border border-slate-300 bg-white px-2 text-sm" value={runId} onChange={(e) => setChosen(e.target.value)} data-testid="past-run-select">
            {past.map((r) => (
              <option key={r.id} value={r.id}>
                {t('option', { number: sorted.length - sorted.indexOf(r), status: r.status, rounds: r.lastRound ?? 0 })}
              </option>
            ))}
          </select>
        </label>
      </div>
      <RunCurves slug={slug} runId={runId} />
    </section>
  );
}

/**
 * "See the model learn": the current global model explained — decision boundary and neuron maps
 * for 2-D tasks; confusion matrix, sample predictions and a draw pad for MNIST — plus the curves
 * of past runs.
 */
export function ExplainPanel({ slug, training, runs }: { slug: string; training: Training; runs: RunSummary[] }) {
  const t = useTranslations('explain');
  const model = useGlobalModel(training);
  const spec = model?.spec ?? training.run?.spec ?? null;
  const digits = spec?.dataset.name === 'mnist';
  return (
    <section className={ui.card} aria-labelledby="explain-title" data-testid="explain-panel">
      <div className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="explain-title" className={ui.cardTitle}>
          {t('title')}
        </h2>
        <p className="min-h-5 text-sm text-slate-600 tabular-nums" data-testid="explain-round">
          {model ? t('modelOf', { round: model.round }) : training.run ? t('waitingModel') : ''}
        </p>
      </div>
      {!spec ? (
        <div className="rounded-lg border border-dashed border-slate-300 bg-slate-50 p-4 text-center">
          <p className="font-semibold text-slate-700">{t('emptyTitle')}</p>
          <p className="mt-1 text-sm text-slate-500">{t('emptyHint')}</p>
        </div>
      ) : digits ? (
        <DigitViews model={model} />
      ) : (
        <PlaneViews model={model} />
      )}
      <PastRuns slug={slug} runs={runs} liveRunId={training.run?.runId ?? null} />
    </section>
  );
}
