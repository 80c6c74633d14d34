/**
 * IPAM's keys are part of the one datastore key layout in `api/keys.ts`; this re-export keeps
 * older imports working. New code imports `api/keys.ts`.
 */
export {
  affinityKey, ALL_AFFINITIES_PREFIX, blockKey, blockPrefix, checkKeySegment, HANDLE_PREFIX, handleKey, hostAffinityPrefix, IPAM_ROOT,
} from '../api/keys.js';
