'use client';

import { useEffect, useId, useState, type FormEvent } from 'react';
import { useRouter } from 'next/navigation';
import { useTranslations } from 'use-intl';
import { TEMPLATE_NAMES, type TemplateName } from '@/server/protocol/templates';
import { ApiError, api, rememberName, rememberedName } from '@/app/_lib/api';
import { useErrorText } from '@/app/_lib/error-text';
import { stashFreshOwnerToken } from '@/app/_lib/owner-link';
import { ChoiceCard, FormError, LabeledInput } from './form-parts';
import { cx, ui } from './ui';

/** The request field a bad_request answer is about (the server's zod issues), if any. */
function badField(err: unknown): 'project' | 'name' | null {
  if (!(err instanceof ApiError) || err.code !== 'bad_request' || !Array.isArray(err.details)) return null;
  const first = (err.details[0] as { path?: unknown[] } | undefined)?.path?.[0];
  return first === 'name' ? 'project' : first === 'ownerName' ? 'name' : null;
}

/** Creates a project (this browser becomes its owner) and opens it; its owner link is shown there once. */
export function CreateProjectForm() {
  const id = useId();
  const router = useRouter();
  const t = useTranslations('projects');
  const errorText = useErrorText();
  const [project, setProject] = useState('');
  const [name, setName] = useState('');
  const [template, setTemplate] = useState<TemplateName>('spiral');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<{ field: 'project' | 'name' | null; message: string } | null>(null);

  useEffect(() => setName((n) => n || rememberedName()), []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (pending) return;
    if (!project.trim()) return setError({ field: 'project', message: t('create.missingProject') });
    if (!name.trim()) return setError({ field: 'name', message: t('create.missingName') });
    setPending(true);
    setError(null);
    try {
      const created = await api.createProject(project.trim(), name.trim(), template);
      rememberName(name);
      stashFreshOwnerToken(created.slug, created.ownerToken);
      router.push(`/p/${encodeURIComponent(created.slug)}`);
    } catch (err) {
      setError({ field: badField(err), message: errorText(err) });
      setPending(false);
    }
  }

  const errorId = `${id}-error`;
  return (
    <form onSubmit={submit} noValidate className="space-y-4" aria-busy={pending}>
      <LabeledInput
        id={`${id}-project`}
        label={t('create.project')}
        name="projectName"
        value={project}
        onChange={(e) => setProject(e.target.value)}
        placeholder={t('create.projectPlaceholder')}
        autoComplete="off"
        maxLength={80}
        invalid={error?.field === 'project'}
        errorId={error ? errorId : undefined}
      />
      <LabeledInput
        id={`${id}-name`}
        label={t('create.name')}
        name="displayName"
        value={name}
        onChange={(e) => setName(e.target.value)}
        placeholder={t('create.namePlaceholder')}
        autoComplete="nickname"
        maxLength={40}
        invalid={error?.field === 'name'}
        errorId={error ? errorId : undefined}
      />
      <fieldset className="space-y-1.5">
        <legend className={ui.label}>{t('create.template')}</legend>
        <div className="grid gap-2 sm:grid-cols-2">
          {TEMPLATE_NAMES.map((key) => (
            <ChoiceCard
              key={key}
              name="template"
              value={key}
              checked={template === key}
              onChange={() => setTemplate(key)}
              testId={`template-${key}`}
              title={t(`templates.${key}.title`)}
              hint={t(`templates.${key}.description`)}
            />
          ))}
        </div>
      </fieldset>
      <FormError id={errorId} message={error?.message} />
      <button type="submit" disabled={pending} className={cx(ui.button, ui.primary, 'w-full')}>
        {pending ? t('create.pending') : t('create.submit')}
      </button>
    </form>
  );
}
