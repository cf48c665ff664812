'use client';

import { useId, useRef, useState, type DragEvent } from 'react';
import { useFormatter, useTranslations } from 'use-intl';
import { MAX_IMPORT_MODEL_JSON_BYTES, MAX_IMPORT_WEIGHT_BYTES } from '@/server/protocol';
import { api } from '@/app/_lib/api';
import { useErrorText } from '@/app/_lib/error-text';
import { ProgressBar } from '../ProgressBar';
import { cx, ui } from '../ui';
import { useMetricFormat } from './format';

type Phase = { kind: 'idle' } | { kind: 'reading' } | { kind: 'uploading'; share: number } | { kind: 'checking' } | { kind: 'done'; loss: number; accuracy: number };

/** A file's bytes as base64 (FileReader's data URL, without its prefix). */
function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(',') + 1));
    };
    reader.onerror = () => reject(reader.error ?? new Error('read failed'));
    reader.readAsDataURL(file);
  });
}

/** Owner only: upload a TensorFlow.js layers model (model.json + weights.bin) as a new run. */
export function ImportModel({ slug, onImported }: { slug: string; onImported: () => void }) {
  const t = useTranslations('runs.import');
  const format = useFormatter();
  const fmt = useMetricFormat();
  const errorText = useErrorText();
  const id = useId();
  const [open, setOpen] = useState(false);
  const [modelFile, setModelFile] = useState<File | null>(null);
  const [weightsFile, setWeightsFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const modelInput = useRef<HTMLInputElement>(null);
  const weightsInput = useRef<HTMLInputElement>(null);
  const busy = phase.kind === 'reading' || phase.kind === 'uploading' || phase.kind === 'checking';
  const megabytes = (bytes: number) => `${format.number(bytes / 1e6, { maximumFractionDigits: 1 })} MB`;

  const pickModel = (file: File | null) => {
    setModelFile(file);
    if (file && !name) setName(file.name.replace(/\.json$/i, ''));
  };
  const take = (files: FileList | File[]) => {
    setError(null);
    setPhase({ kind: 'idle' });
    for (const file of Array.from(files)) {
      if (/\.json$/i.test(file.name)) pickModel(file);
      else if (/\.bin$/i.test(file.name)) setWeightsFile(file);
      else setError(t('unknownFile', { name: file.name }));
    }
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    if (!busy) take(event.dataTransfer.files);
  };

  const submit = async () => {
    setError(null);
    if (!modelFile || !weightsFile) return setError(t('needBoth'));
    if (!name.trim()) return setError(t('needName'));
    if (modelFile.size > MAX_IMPORT_MODEL_JSON_BYTES) return setError(t('tooLarge', { name: modelFile.name, limit: megabytes(MAX_IMPORT_MODEL_JSON_BYTES) }));
    if (weightsFile.size > MAX_IMPORT_WEIGHT_BYTES) return setError(t('tooLarge', { name: weightsFile.name, limit: megabytes(MAX_IMPORT_WEIGHT_BYTES) }));
    setPhase({ kind: 'reading' });
    let modelJson: Record<string, unknown>;
    let weightsBase64: string;
    try {
      const parsed = JSON.parse(await modelFile.text()) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      modelJson = parsed as Record<string, unknown>;
    } catch {
      setPhase({ kind: 'idle' });
      return setError(t('badJson'));
    }
    try {
      weightsBase64 = await readBase64(weightsFile);
    } catch (e) {
      setPhase({ kind: 'idle' });
      return setError(errorText(e));
    }
    setPhase({ kind: 'uploading', share: 0 });
    try {
      const result = await api.importModel(slug, { name: name.trim(), modelJson, weightsBase64 }, (share) =>
        setPhase(share >= 1 ? { kind: 'checking' } : { kind: 'uploading', share }),
      );
      setPhase({ kind: 'done', loss: result.loss, accuracy: result.accuracy });
      setModelFile(null);
      setWeightsFile(null);
      setName('');
      if (modelInput.current) modelInput.current.value = '';
      if (weightsInput.current) weightsInput.current.value = '';
      onImported();
    } catch (e) {
      setPhase({ kind: 'idle' });
      setError(errorText(e));
    }
  };

  if (!open) {
    return (
      <button type="button" className={cx(ui.button, ui.secondary, 'h-10 text-sm')} onClick={() => setOpen(true)} data-testid="import-open">
        {t('open')}
      </button>
    );
  }

  const share = phase.kind === 'uploading' ? phase.share : phase.kind === 'checking' || phase.kind === 'done' ? 1 : 0;
  const fileInput = 'block w-full min-w-0 text-sm text-slate-600 file:mr-3 file:h-9 file:rounded-lg file:border file:border-slate-300 file:bg-white file:px-3 file:text-sm file:font-semibold file:text-slate-800 hover:file:bg-slate-50';
  return (
    <div
      className={cx('min-w-0 basis-full rounded-xl border-2 border-dashed p-3 sm:p-4', dragging ? 'border-brand-500 bg-brand-50' : 'border-slate-300 bg-slate-50')}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      data-testid="import-model"
    >
      <div className="flex items-start justify-between gap-3">
        <h3 className="font-semibold text-slate-900">{t('title')}</h3>
        <button type="button" className={cx(ui.button, ui.ghost, 'h-8 px-2 text-sm')} onClick={() => setOpen(false)} disabled={busy}>
          {t('close')}
        </button>
      </div>
      <p className={cx(ui.hint, 'mt-1')}>{t('intro')}</p>
      <p className="mt-2 text-sm font-medium text-slate-700">{t('drop')}</p>
      <div className="mt-2 grid gap-3 sm:grid-cols-2">
        <div>
          <label className={ui.label} htmlFor={`${id}-model`}>
            {t('modelFile')}
          </label>
          <input ref={modelInput} id={`${id}-model`} type="file" accept=".json,application/json" className={fileInput} disabled={busy} onChange={(e) => take(e.target.files ?? [])} data-testid="import-model-json" />
        </div>
        <div>
          <label className={ui.label} htmlFor={`${id}-weights`}>
            {t('weightsFile')}
          </label>
          <input ref={weightsInput} id={`${id}-weights`} type="file" accept=".bin,application/octet-stream" className={fileInput} disabled={busy} onChange={(e) => take(e.target.files ?? [])} data-testid="import-weights" />
        </div>
      </div>
      <div className="mt-3 flex flex-col gap-2 sm:flex-row sm:items-end">
        <div className="min-w-0 flex-1">
          <label className={ui.label} htmlFor={`${id}-name`}>
            {t('name')}
          </label>
          <input id={`${id}-name`} className={ui.input} value={name} maxLength={80} placeholder={t('namePlaceholder')} disabled={busy} onChange={(e) => setName(e.target.value)} data-testid="import-name" />
        </div>
        <button type="button" className={cx(ui.button, ui.primary, 'h-11')} disabled={busy || !modelFile || !weightsFile} onClick={() => void submit()} data-testid="import-submit">
          {t('submit')}
        </button>
      </div>
      {/* Fixed height: the panel does not jump when the progress line appears. */}
      <div className="mt-3 min-h-12" aria-live="polite">
        {phase.kind !== 'idle' && phase.kind !== 'done' && (
          <>
            <ProgressBar label={t('progress')} value={share} className="h-2 rounded-full bg-slate-200" pulse={phase.kind === 'checking'} />
            <p className={cx(ui.hint, 'mt-1')}>
              {phase.kind === 'reading' ? t('reading') : phase.kind === 'checking' ? t('checking') : t('uploading', { percent: format.number(share, { style: 'percent' }) })}
            </p>
          </>
        )}
        {phase.kind === 'done' && (
          <p className="text-sm font-medium text-emerald-700" role="status" data-testid="import-done">
            {t('done', { loss: fmt.loss(phase.loss), accuracy: fmt.accuracy(phase.accuracy) })}
          </p>
        )}
        {error && (
          <p className={cx(ui.error, 'break-words')} role="alert" data-testid="import-error">
            {error}
          </p>
        )}
      </div>
    </div>
  );
}
