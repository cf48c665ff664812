'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type ProjectInfo, type Ticket } from '@/app/_lib/api';
import { useCollab } from '@/app/_lib/useCollab';
import { useSpec } from '@/app/_lib/useSpec';
import { useTraining } from '@/app/_lib/useTraining';
import { useLocalData } from '@/app/_lib/useLocalData';
import { ComputePanel } from './ComputePanel';
import { ContributionsTable } from './ContributionsTable';
import { ConnectionStatus } from './ConnectionStatus';
import { ClassHistogram } from './data/ClassHistogram';
import { PrivateDataPanel } from './data/PrivateDataPanel';
import { ExplainPanel } from './explain/ExplainPanel';
import { OnlineList } from './OnlineList';
import { PrivacyBudget } from './PrivacyBudget';
import { ProjectHeader } from './ProjectHeader';
import { RunsList } from './RunsList';
import { SpecEditor } from './SpecEditor';
import { TrainingPanel } from './TrainingPanel';
import { ui } from './ui';

const T = { connecting: 'Connecting to the shared document…' };

/** A member's view of a project: shared spec editor, training, people and runs. */
export function Workspace({ slug, ticket }: { slug: string; ticket: Ticket }) {
  const collab = useCollab(slug, ticket);
  const snap = useSpec(collab.doc);
  const localData = useLocalData(slug);
  const training = useTraining(slug, true, localData.forTask);
  const [info, setInfo] = useState<ProjectInfo | null>(null);

  // Refreshes can overlap while rounds fly by: only the newest request's answer is shown.
  const latestRefresh = useRef(0);
  const refreshInfo = useCallback(() => {
    const seq = ++latestRefresh.current;
    api.project(slug).then((next) => {
      if (seq === latestRefresh.current) setInfo(next);
    }, () => {
      // The header falls back to the slug; the next refresh tries again.
    });
  }, [slug]);

  // Project name, join code and runs: on load, and whenever the live run moves on.
  const runKey = `${training.run?.runId ?? ''}:${training.run?.status ?? ''}:${training.modelVersion}`;
  useEffect(() => {
    const timer = setTimeout(refreshInfo, 150);
    return () => clearTimeout(timer);
  }, [refreshInfo, runKey]);

  const member = ticket.member;
  return (
    <div className="min-h-dvh">
      <ProjectHeader
        slug={slug}
        name={info?.project.name ?? null}
        joinCode={info?.project.joinCode ?? null}
        member={member}
        status={<ConnectionStatus collab={collab.status} synced={collab.synced} training={training.connected} trainingReason={training.connectionReason} />}
      />
      <main className="mx-auto grid max-w-7xl grid-cols-[minmax(0,1fr)] gap-4 px-4 py-4 sm:px-6 sm:py-6 lg:grid-cols-[minmax(0,1.15fr)_minmax(0,1fr)] lg:grid-rows-[auto_1fr] lg:items-start">
        {/* DOM order is the phone order (training first); the grid places columns on wide screens. */}
        <div className="lg:col-start-2 lg:row-start-1">
          <TrainingPanel slug={slug} isOwner={member.role === 'owner'} snap={snap} training={training} onStarted={refreshInfo} />
        </div>
        <div className="lg:col-start-1 lg:row-span-2 lg:row-start-1">
          {collab.doc ? (
            <SpecEditor doc={collab.doc} snap={snap} peers={collab.peers} setEditing={collab.setEditing} />
          ) : (
            <section className={ui.card}>
              <p className="text-slate-500">{T.connecting}</p>
            </section>
          )}
        </div>
        <div className="space-y-4 lg:col-start-2 lg:row-start-2">
          <PrivacyBudget run={training.run} />
          <ExplainPanel slug={slug} training={training} runs={info?.runs ?? []} />
          <OnlineList peers={collab.peers} />
          <ComputePanel training={training} />
          {member.role !== 'viewer' && <ClassHistogram training={training} local={localData} spec={snap?.spec ?? null} />}
          {member.role !== 'viewer' && <PrivateDataPanel local={localData} training={training} spec={snap?.spec ?? null} />}
          <ContributionsTable slug={slug} runs={info?.runs ?? []} liveRunId={training.run?.runId ?? null} version={training.modelVersion} meId={member.id} />
          <RunsList slug={slug} runs={info?.runs ?? []} version={training.modelVersion} isOwner={member.role === 'owner'} onStarted={refreshInfo} />
        </div>
      </main>
    </div>
  );
}
