// piscina entry point for the log cleaner: one compaction pass per task (see compaction.ts). Loaded from the
// compiled dist/ tree by LogManager; under tsx (tests) the cleaner runs in-process instead.
import { cleanSegments, type CleanerResult, type CleanerTask } from './compaction.js';

export default function run(task: CleanerTask): Promise<CleanerResult> {
  return cleanSegments(task);
}
