// Where profiling output goes and how it is named.
import { relative } from 'node:path';
import { REPO_ROOT } from '../../lib/service.js';

export { REPO_ROOT };
/** Profiles and flamegraphs land here (gitignored). */
export const PROFILES_DIR = `${REPO_ROOT}profiles`;

/** 2026-11-27-193012: sortable, safe in a file name. */
export function stamp(d = new Date()): string {
  return d.toISOString().replace(/[:]/g, '').replace(/\..+/, '').replace('T', '-');
}

/** A path relative to the working directory when below it (what a user can paste), else absolute. */
export function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}
