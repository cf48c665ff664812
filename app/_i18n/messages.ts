/**
 * Every UI string, per language and namespace (one JSON file each under messages/<locale>/).
 * English is the reference: its shape is the type every other language must match
 * (tests/unit/i18n.test.ts checks the key sets and placeholders are identical).
 */
import enClassroom from './messages/en/classroom.json';
import enCommon from './messages/en/common.json';
import enContributions from './messages/en/contributions.json';
import enData from './messages/en/data.json';
import enExplain from './messages/en/explain.json';
import enLanding from './messages/en/landing.json';
import enProject from './messages/en/project.json';
import enPrivacy from './messages/en/privacy.json';
import enProjects from './messages/en/projects.json';
import enRuns from './messages/en/runs.json';
import enSpec from './messages/en/spec.json';
import enTraining from './messages/en/training.json';
import zhClassroom from './messages/zh-CN/classroom.json';
import zhCommon from './messages/zh-CN/common.json';
import zhContributions from './messages/zh-CN/contributions.json';
import zhData from './messages/zh-CN/data.json';
import zhExplain from './messages/zh-CN/explain.json';
import zhLanding from './messages/zh-CN/landing.json';
import zhProject from './messages/zh-CN/project.json';
import zhPrivacy from './messages/zh-CN/privacy.json';
import zhProjects from './messages/zh-CN/projects.json';
import zhRuns from './messages/zh-CN/runs.json';
import zhSpec from './messages/zh-CN/spec.json';
import zhTraining from './messages/zh-CN/training.json';
import type { Locale } from './locales';

export const en = {
  classroom: enClassroom,
  common: enCommon,
  contributions: enContributions,
  data: enData,
  explain: enExplain,
  landing: enLanding,
  privacy: enPrivacy,
  project: enProject,
  projects: enProjects,
  runs: enRuns,
  spec: enSpec,
  training: enTraining,
};
export type Messages = typeof en;

export const MESSAGES: Record<Locale, Record<keyof Messages, object>> = {
  en,
  'zh-CN': {
    classroom: zhClassroom,
    common: zhCommon,
    contributions: zhContributions,
    data: zhData,
    explain: zhExplain,
    landing: zhLanding,
    privacy: zhPrivacy,
    project: zhProject,
    projects: zhProjects,
    runs: zhRuns,
    spec: zhSpec,
    training: zhTraining,
  },
};
