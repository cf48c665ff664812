import Link from 'next/link';
import { CreateProjectForm } from './_components/CreateProjectForm';
import { LandingJoin } from './_components/LandingJoin';
import { ui, cx } from './_components/ui';

const T = {
  brand: 'cotrain',
  title: 'Design a neural network together, then train it on everyone’s browsers.',
  lead: 'Edit one shared model spec live with your group. When you press Train, every open browser trains a slice of the data and the server averages the results, round by round.',
  createTitle: 'Create a project',
  createHint: 'You become the owner and get a join code to share.',
  joinTitle: 'Join with a code',
  joinHint: 'Someone shared a code with you? Enter it here.',
  demoTitle: 'Just looking?',
  demoText: 'Open the demo project and join it with the code',
  demoCode: 'DEMO42',
  demoLink: 'Open the demo',
  steps: ['Co-edit the data, features and layers', 'Press Train: each browser trains a shard', 'Watch loss and accuracy improve live'],
};

export default function HomePage() {
  return (
    <main className="mx-auto max-w-5xl px-4 py-10 sm:px-6 sm:py-16">
      <header className="max-w-3xl">
        <p className="text-sm font-bold tracking-widest text-brand-600 uppercase">{T.brand}</p>
        <h1 className="mt-2 text-3xl font-bold tracking-tight text-balance text-slate-900 sm:text-5xl">{T.title}</h1>
        <p className="mt-4 text-lg text-pretty text-slate-600">{T.lead}</p>
        <ol className="mt-6 grid gap-2 sm:grid-cols-3">
          {T.steps.map((step, i) => (
            <li key={step} className="flex items-start gap-2 text-slate-700">
              <span className="mt-0.5 inline-flex h-6 w-6 shrink-0 items-center justify-center rounded-full bg-brand-100 text-sm font-bold text-brand-700">
                {i + 1}
              </span>
              <span>{step}</span>
            </li>
          ))}
        </ol>
      </header>

      <div className="mt-10 grid gap-6 md:grid-cols-2">
        <section aria-labelledby="create-title" className={ui.card}>
          <h2 id="create-title" className={ui.cardTitle}>
            {T.createTitle}
          </h2>
          <p className={cx(ui.hint, 'mt-1 mb-4')}>{T.createHint}</p>
          <CreateProjectForm />
        </section>
        <section aria-labelledby="join-title" className={ui.card}>
          <h2 id="join-title" className={ui.cardTitle}>
            {T.joinTitle}
          </h2>
          <p className={cx(ui.hint, 'mt-1 mb-4')}>{T.joinHint}</p>
          <LandingJoin />
        </section>
      </div>

      <aside className="mt-6 flex flex-col gap-3 rounded-xl border border-brand-100 bg-brand-50 p-4 sm:flex-row sm:items-center sm:justify-between sm:p-5">
        <p className="text-slate-700">
          <span className="font-semibold text-slate-900">{T.demoTitle}</span> {T.demoText}{' '}
          <code className="rounded bg-white px-1.5 py-0.5 font-mono font-semibold tracking-wider text-brand-700">{T.demoCode}</code>.
        </p>
        <Link href="/p/demo" className={cx(ui.button, ui.secondary, 'shrink-0')}>
          {T.demoLink} →
        </Link>
      </aside>
    </main>
  );
}
