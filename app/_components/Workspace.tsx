'use client';

import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useTranslations } from 'use-intl';
import { api, type ProjectInfo, type Ticket } from '@/app/_lib/api';
import { useCollab, type AccessChange } from '@/app/_lib/useCollab';
import { useSpec } from '@/app/_lib/useSpec';
import { useTraining } from '@/app/_lib/useTraining';
import { useLocalData } from '@/app/_lib/useLocalData';
import { MembersAdmin } from './classroom/MembersAdmin';
import { OwnerControls } from './classroom/OwnerControls';
import { ReadOnlyNotice } from './classroom/ReadOnlyNotice';
import { memberOfClient } from './classroom/roster';
import { useWatchTraining } from './classroom/useWatchTraining';
import { ComputePanel } from './ComputePanel';
import { ContributionsTable } from './ContributionsTable';
import { ConnectionStatus } from './ConnectionStatus';
import { DangerZone } from './DangerZone';
import { ClassHistogram } from './data/ClassHistogram';
import { PrivateDataPanel } from './data/PrivateDataPanel';
import { ExplainPanel } from './explain/ExplainPanel';
import { OnlineList } from './OnlineList';
import { OwnerLink } from './OwnerLink';
import { PrivacyBudget } from './PrivacyBudget';
import { SecureAggregationStatus } from './SecureAggregationStatus';
import { ProjectHeader } from './ProjectHeader';
import { RunsList } from './RunsList';
import { SpecEditor } from './SpecEditor';
import { StorageNotice } from './StorageNotice';
import { TrainingPanel, isActive } from './TrainingPanel';
import { ui } from './ui';

/** A labelled run of cards: the workspace's groups (my data, people and compute, history). */
function WorkspaceGroup({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section aria-labelledby={id} className="space-y-4 pt-2">
      <h2 id={id} className="px-1 text-sm font-bold tracking-wide text-slate-500 uppercase">
        {title}
      </h2>
      {children}
    </section>
  );
}

/**
 * A member's view of a project: shared spec editor, training, people and runs. Viewers watch
 * (read-only editor, no training worker); the owner also gets the classroom controls.
 * `onAccessChanged`: the server changed this member's access (role, removed, left, deleted); the gate decides what to show.
 */
export function Workspace({ slug, ticket, onAccessChanged }: { slug: string; ticket: Ticket; onAccessChanged?: (change: AccessChange) => void }) {
  const t = useTranslations('project.workspace');
  const member = ticket.member;
  const isViewer = member.role === 'viewer';
  const collab = useCollab(slug, ticket, { onAccessChanged });
  const snap = useSpec(collab.doc);
  const localData = useLocalData(slug);
  // Viewers never start a training worker: they only follow the room.
  const trainer = useTraining(slug, !isViewer, localData.forTask);
  const watcher = useWatchTraining(slug, isViewer);
  const training = isViewer ? watcher : trainer;
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

  const specLocked = collab.room?.specLocked ?? info?.project.specLocked ?? null;
  const readOnly = isViewer ? 'viewer' : specLocked && member.role !== 'owner' ? 'locked' : null;
  const online = useMemo(
    () => new Set([...collab.peers.map((p) => p.user.memberId), ...training.clients.map((c) => memberOfClient(c.clientId))]),
    [collab.peers, training.clients],
  );
  // This browser's name as everyone sees it (the owner may have renamed it since sign-in).
  const selfName = collab.peers.find((p) => p.isSelf)?.user.name ?? member.name;
  return (
    <div className="min-h-dvh">
      <ProjectHeader
        slug={slug}
        name={info?.project.name ?? null}
        joinCode={info?.project.joinCode ?? null}
        publicUrl={info?.publicUrl ?? null}
        member={selfName === member.name ? member : { ...member, name: selfName }}
        status={<ConnectionStatus collab={collab.status} synced={collab.synced} training={training.connected} trainingReason={training.connectionReason} />}
      />
      <main className="mx-auto grid max-w-7xl grid-cols-[minmax(0,1fr)] gap-4 px-4 py-4 sm:px-6 sm:py-6 lg:grid-cols-[minmax(0,1.15fr)_minmax(0,1fr)] lg:grid-rows-[auto_1fr] lg:items-start">
        {/* DOM order is the phone order: training and what the model learned first, then the spec and
            this browser's data, then people and compute, then history. The grid places columns on wide screens. */}
        <div className="space-y-4 lg:col-start-2 lg:row-start-1">
          <TrainingPanel slug={slug} isOwner={member.role === 'owner'} snap={snap} training={training} onStarted={refreshInfo} />
          <StorageNotice run={training.run} />
          <PrivacyBudget run={training.run} />
          <SecureAggregationStatus run={training.run} />
          <ExplainPanel slug={slug} training={training} runs={info?.runs ?? []} />
        </div>
        <div className="space-y-4 lg:col-start-1 lg:row-span-2 lg:row-start-1">
          {collab.doc ? (
            <SpecEditor
              doc={collab.doc}
              snap={snap}
              peers={collab.peers}
              setEditing={collab.setEditing}
              readOnly={readOnly !== null}
              notice={readOnly && <ReadOnlyNotice reason={readOnly} />}
            />
          ) : (
            <section className={ui.card}>
              <p className="text-slate-500">{t('connecting')}</p>
            </section>
          )}
          {!isViewer && (
            <WorkspaceGroup id="group-data" title={t('groups.data')}>
              <ClassHistogram training={training} local={localData} spec={snap?.spec ?? null} />
              <PrivateDataPanel local={localData} training={training} spec={snap?.spec ?? null} />
            </WorkspaceGroup>
          )}
        </div>
        <div className="space-y-4 lg:col-start-2 lg:row-start-2">
          <WorkspaceGroup id="group-people" title={t('groups.people')}>
            <OnlineList peers={collab.peers} />
            {!isViewer && <ComputePanel training={training} />}
            {member.role === 'owner' && <OwnerControls slug={slug} specLocked={specLocked} runActive={isActive(training.run)} />}
            {member.role === 'owner' && <MembersAdmin slug={slug} selfId={member.id} online={online} membersRev={collab.room?.membersRev ?? 0} />}
            <OwnerLink slug={slug} isOwner={member.role === 'owner'} />
          </WorkspaceGroup>
          <WorkspaceGroup id="group-history" title={t('groups.history')}>
            <RunsList slug={slug} runs={info?.runs ?? []} version={training.modelVersion} isOwner={member.role === 'owner'} onStarted={refreshInfo} />
            <DangerZone slug={slug} projectName={info?.project.name ?? null} role={member.role} />
          </WorkspaceGroup>
        </div>
        {/* Below both columns, full width: the per-member table and the scale chart need room. */}
        <div className="lg:col-span-2">
          <ContributionsTable slug={slug} runs={info?.runs ?? []} liveRunId={training.run?.runId ?? null} version={training.modelVersion} meId={member.id} />
        </div>
      </main>
    </div>
  );
}
