import { createHash } from 'node:crypto';
import { manifestAt, type Manifest } from './store.js';

/**
 * The version of a cluster's feed: a hash of its reports' content versions and of the last
 * refused file, so every replica that serves the same reports (and refused the same file) has
 * the same version, and any accepted, corrected or new report, or a newly refused one (which
 * `FeedStatus.lastRejected` shows), changes it. Caches key their entries by it.
 */
function versionOfSnapshots(manifest: Manifest, rejection: string | null): string {
  const lines = manifest.snapshots.map((s) => `${s.file}@${s.version}`);
  if (rejection) lines.push(`refused:${rejection}`);
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}

/** The version of the current reports (what `/feed/events` announces). */
export function feedVersionOf(manifest: Manifest, rejection: string | null = null): string {
  return versionOfSnapshots(manifestAt(manifest, null), rejection);
}

/** Versions already computed per manifest, for the last few pins (one operation's fetches share one). */
const computed = new WeakMap<Manifest, Map<string, string>>();
const PINS_KEPT = 32;

/**
 * The version of the reports a request pinned to `pin` answers from (`manifestAt`), sent
 * back as `FEED_VERSION_HEADER`: equal to `feedVersionOf` once every report visible now was
 * visible at the pin. The refusal part is not pinned (a refusal has no visibility instant):
 * it is the refusal as the request started, which is what its `FeedStatus.lastRejected`
 * shows or something newer, so the header never claims a newer version than the answer.
 */
export function feedVersionAt(manifest: Manifest, pin: string | null, rejection: string | null): string {
  const key = `${pin ?? ''}\n${rejection ?? ''}`;
  let versions = computed.get(manifest);
  const known = versions?.get(key);
  if (known !== undefined) return known;
  const version = versionOfSnapshots(manifestAt(manifest, pin), rejection);
  if (!versions) computed.set(manifest, (versions = new Map()));
  // Bounded: the oldest pin goes first (a manifest can serve for days).
  if (versions.size >= PINS_KEPT) versions.delete(versions.keys().next().value!);
  versions.set(key, version);
  return version;
}
