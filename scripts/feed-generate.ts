/**
 * `npm run feed:generate`: synthetic supplier feeds for scale tests and benchmarks.
 *
 * Writes `<out>/<supplier>/`, one full report per week from `--start`, in the supplier's own
 * format and vocabulary (Fujitsu CSV for the South, BT JSON for London), with one rollout row
 * per synthetic trust, and merges the synthetic trusts into `<out>/trusts.json` (the
 * EXTRA_TRUSTS_FILE format) so that the subgraphs accept them. The same arguments give
 * byte-identical files.
 *
 *   npm run feed:generate -- --supplier south --trusts 1000 --snapshots 12 --out .data/generated
 */
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isIsoDate } from '../subgraphs/kit/date.js';
import { COLUMNS } from '../subgraphs/south/feed-format.js';
import { trusts as builtInTrusts } from '../subgraphs/programme/reference.js';

export type Supplier = 'south' | 'london';
export const SUPPLIERS: readonly Supplier[] = ['south', 'london'];

export interface GenerateOptions {
  supplier: Supplier;
  trusts: number;
  snapshots: number;
  outRoot: string;
  /** ISO date of the first report; default 2005-12-31. */
  start?: string;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface GenerateResult {
  /** The supplier's feed folder. */
  dir: string;
  /** The feed files written, oldest report first. */
  files: string[];
  /** The EXTRA_TRUSTS_FILE holding the synthetic trusts. */
  trustsFile: string;
  /** Rows over all files, counted as the feed parsers count them. */
  rows: number;
}

export const DEFAULT_START = '2005-12-31';
export const DEFAULT_SEED = 20070906;
/** ODS codes are a letter and four base-36 characters; 0000 is not used. */
export const MAX_TRUSTS = 36 ** 4 - 1;
export const MAX_SNAPSHOTS = 5000;

interface SupplierSpec {
  readonly clusterId: 'SOUTH' | 'LONDON';
  readonly codePrefix: string;
  readonly label: string;
  readonly filePattern: RegExp;
  readonly fileName: (isoDate: string) => string;
  readonly envVar: string;
}

const SPECS: Record<Supplier, SupplierSpec> = {
  south: {
    clusterId: 'SOUTH',
    codePrefix: 'Y',
    label: 'South',
    filePattern: /^fujitsu-south-\d{4}-\d{2}-\d{2}\.csv$/,
    fileName: (d) => `fujitsu-south-${d}.csv`,
    envVar: 'SOUTH_FEED_DIR',
  },
  london: {
    clusterId: 'LONDON',
    codePrefix: 'Z',
    label: 'London',
    filePattern: /^bt-london-\d{4}-\d{2}-\d{2}\.json$/,
    fileName: (d) => `bt-london-${d}.json`,
    envVar: 'LONDON_FEED_DIR',
  },
};

/** The ODS code of synthetic trust `index` (1-based) of a supplier, e.g. `Y0016`. */
export function syntheticOdsCode(supplier: Supplier, index: number): string {
  return SPECS[supplier].codePrefix + index.toString(36).toUpperCase().padStart(4, '0');
}

/** The name of synthetic trust `index` (1-based), e.g. `Synthetic South Trust 0042`. */
export function syntheticTrustName(supplier: Supplier, index: number, total: number): string {
  return `Synthetic ${SPECS[supplier].label} Trust ${String(index).padStart(Math.max(4, String(total).length), '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness and dates

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY_MS = 86_400_000;
/** Far enough in the future to mean "never". */
const NEVER = 2 ** 30;

function isoToDay(iso: string): number {
  return Math.floor(Date.parse(`${iso}T00:00:00Z`) / DAY_MS);
}

function dayToIso(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Formats days as ISO or UK dates, remembering the ones already formatted. */
function dateFormatter(style: 'iso' | 'uk'): (day: number) => string {
  const cache = new Map<number, string>();
  return (day) => {
    let text = cache.get(day);
    if (text === undefined) {
      const iso = dayToIso(day);
      text = style === 'iso' ? iso : `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
      cache.set(day, text);
    }
    return text;
  };
}

// ---------------------------------------------------------------------------------------------
// The synthetic programme: each trust's plan, and its state on a report date

const Fate = { OnTime: 0, Replanned: 1, PostponedIndefinitely: 2, Cancelled: 3 } as const;
const Status = { Planned: 0, Live: 1, Postponed: 2, Cancelled: 3, SwitchedOff: 4 } as const;
type Status = (typeof Status)[keyof typeof Status];
const NoteKind = { None: 0, DateNotPublished: 1, Replanned: 2, Postponed: 3, Cancelled: 4, SwitchedOff: 5 } as const;
type NoteKind = (typeof NoteKind)[keyof typeof NoteKind];

const RELEASE_CODES = ['R0', 'R1', 'R2'] as const;

/** Every trust's plan, drawn once from the seed; states on a day derive from it. */
interface Plans {
  readonly count: number;
  readonly release: Uint8Array;
  readonly fate: Uint8Array;
  /** The day the first planned date is published (before it the plan has no date). */
  readonly announce: Int32Array;
  readonly plan1: Int32Array;
  /** The day the slip is reported (postponed from then on). */
  readonly notice: Int32Array;
  /** The day a new date is given after a slip. */
  readonly replan: Int32Array;
  readonly plan2: Int32Array;
  readonly cancel: Int32Array;
  readonly live: Int32Array;
  readonly off: Int32Array;
}

function drawPlans(count: number, seed: number, firstDay: number, span: number): Plans {
  const random = mulberry32(seed);
  const plans: Plans = {
    count,
    release: new Uint8Array(count),
    fate: new Uint8Array(count),
    announce: new Int32Array(count),
    plan1: new Int32Array(count),
    notice: new Int32Array(count),
    replan: new Int32Array(count),
    plan2: new Int32Array(count),
    cancel: new Int32Array(count),
    live: new Int32Array(count),
    off: new Int32Array(count),
  };
  // Go-live windows per release, as fractions of the span after the first report: R0 sites
  // are mostly live already, R1 go live during the period, R2 mostly later.
  const windows: readonly (readonly [number, number])[] = [
    [-1.5, 0.5],
    [-0.25, 1],
    [0.6, 2],
  ];
  for (let i = 0; i < count; i += 1) {
    // Always draw the same number of values per trust, so that each trust's plan depends
    // only on the seed and its index.
    const uRelease = random();
    const uWhen = random();
    const uFate = random();
    const uNotice = random();
    const uReplan = random();
    const uSlip = random();
    const uLiveLag = random();
    const uOff = random();
    const uOffAfter = random();
    const uAnnounce = random();
    const release = uRelease < 0.35 ? 0 : uRelease < 0.75 ? 1 : 2;
    const [low, high] = windows[release] as readonly [number, number];
    const plan1 = firstDay + Math.round((low + (high - low) * uWhen) * span);
    const fate = uFate < 0.06 ? Fate.Cancelled : uFate < 0.1 ? Fate.PostponedIndefinitely : uFate < 0.26 ? Fate.Replanned : Fate.OnTime;
    const notice = plan1 - Math.floor(uNotice * 8);
    const replan = fate === Fate.Replanned ? notice + 7 + Math.floor(uReplan * 22) : NEVER;
    const plan2 = fate === Fate.Replanned ? Math.max(plan1, replan) + 14 + Math.floor(uSlip * (span / 2 + 1)) : NEVER;
    const lag = Math.floor(uLiveLag * 4);
    const live = fate === Fate.OnTime ? plan1 + lag : fate === Fate.Replanned ? plan2 + lag : NEVER;
    plans.release[i] = release;
    plans.fate[i] = fate;
    plans.announce[i] = release === 2 ? plan1 - 14 - Math.floor(uAnnounce * (span + 1)) : -NEVER;
    plans.plan1[i] = plan1;
    plans.notice[i] = notice;
    plans.replan[i] = replan;
    plans.plan2[i] = plan2;
    plans.cancel[i] = fate === Fate.Cancelled ? plan1 - Math.floor(uNotice * 15) : NEVER;
    plans.live[i] = live;
    plans.off[i] = live !== NEVER && uOff < 0.04 ? live + 28 + Math.floor(uOffAfter * (span + 1)) : NEVER;
  }
  return plans;
}

/** Every trust's state on one report date. Dates are days; -1 means none. */
interface States {
  readonly status: Uint8Array;
  readonly planned: Int32Array;
  readonly actual: Int32Array;
  readonly note: Uint8Array;
  /** For notes that name the first planned date. */
  readonly firstPlanned: Int32Array;
}

function statesOn(plans: Plans, day: number, into?: States): States {
  const n = plans.count;
  const states: States = into ?? {
    status: new Uint8Array(n),
    planned: new Int32Array(n),
    actual: new Int32Array(n),
    note: new Uint8Array(n),
    firstPlanned: new Int32Array(n),
  };
  for (let i = 0; i < n; i += 1) {
    const plan1 = plans.plan1[i] as number;
    const live = plans.live[i] as number;
    let status: Status = Status.Planned;
    let planned = day >= (plans.announce[i] as number) ? plan1 : -1;
    let actual = -1;
    let note: NoteKind = planned === -1 ? NoteKind.DateNotPublished : NoteKind.None;
    if (day >= (plans.cancel[i] as number)) {
      status = Status.Cancelled;
      note = NoteKind.Cancelled;
    } else if (day >= (plans.off[i] as number)) {
      status = Status.SwitchedOff;
      planned = -1;
      actual = live;
      note = NoteKind.SwitchedOff;
    } else if (day >= live) {
      status = Status.Live;
      planned = -1;
      actual = live;
      note = NoteKind.None;
    } else if (day >= (plans.replan[i] as number)) {
      planned = plans.plan2[i] as number;
      note = NoteKind.Replanned;
    } else if (plans.fate[i] !== Fate.OnTime && plans.fate[i] !== Fate.Cancelled && day >= (plans.notice[i] as number)) {
      status = Status.Postponed;
      planned = plan1;
      note = NoteKind.Postponed;
    }
    states.status[i] = status;
    states.planned[i] = planned;
    states.actual[i] = actual;
    states.note[i] = note;
    states.firstPlanned[i] = plan1;
  }
  return states;
}

/** What the releases look like in report `index` of `total`. */
interface ReleaseEvents {
  /** Years R2 has slipped by. */
  readonly r2Slip: number;
  /** The day R1's design was signed off, or null while still in design. */
  readonly r1SignedOff: number | null;
  /** The day R2's design was suspended (the South's contract reset), or null. */
  readonly r2Suspended: number | null;
}

function releaseEvents(index: number, total: number, firstDay: number): ReleaseEvents {
  const eventDay = (at: number) => (index >= at ? firstDay + 7 * at - 3 : null);
  return {
    r2Slip: Math.min(2, Math.floor((3 * index) / total)),
    r1SignedOff: eventDay(Math.max(1, Math.floor(total / 2))),
    r2Suspended: eventDay(Math.max(1, Math.floor(total / 3))),
  };
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Collects lines and writes them to a file in chunks. */
class ChunkedWriter {
  private lines: string[] = [];
  private pending = 0;
  private constructor(
    private readonly handle: Awaited<ReturnType<typeof open>>,
    readonly path: string,
  ) {}

  static async create(path: string): Promise<ChunkedWriter> {
    return new ChunkedWriter(await open(path, 'w'), path);
  }

  async line(text: string): Promise<void> {
    this.lines.push(text);
    this.pending += text.length;
    if (this.pending >= 1 << 20) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const chunk = this.lines.join('\n') + '\n';
    this.lines = [];
    this.pending = 0;
    await this.handle.write(chunk);
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.handle.close();
    }
  }
}

/** Writes `path` through a temporary name, so a reader never sees half a file. */
async function writeAtomically(path: string, write: (out: ChunkedWriter) => Promise<void>): Promise<void> {
  const partial = `${path}.partial`;
  const out = await ChunkedWriter.create(partial);
  try {
    await write(out);
    await out.close();
  } catch (error) {
    await out.close().catch(() => undefined);
    await unlink(partial).catch(() => undefined);
    throw error;
  }
  await rename(partial, path);
}

interface Report {
  readonly index: number;
  readonly total: number;
  readonly day: number;
  readonly firstDay: number;
  readonly seed: number;
  readonly states: States;
  readonly codes: readonly string[];
  readonly names: readonly string[];
  readonly plans: Plans;
}

/** The first report's year, so that target years move with `--start`. */
const yearShift = (firstDay: number) => Number(dayToIso(firstDay).slice(0, 4)) - 2005;

// --- Fujitsu CSV -----------------------------------------------------------------------------

type Column = (typeof COLUMNS)[number] | 'Provider';

function csvCell(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const BT_TAKEOVER = isoToDay('2009-03-31');
const SOUTH_MODULES: readonly (readonly [string, string, string])[][] = [
  [
    ['PAS', 'Patient Administration', 'Core PAS at every R0 site'],
    ['A&E', 'Emergency Department', 'A&E at most R0 sites; scope varied by site'],
    ['CLINICALS', 'Clinical Documentation', 'Clinicals at some sites'],
    ['RADIOLOGY', 'Radiology', 'Radiology at some sites'],
  ],
  [
    ['PAS', 'Patient Administration', 'PAS extended through the R1 requirements phase'],
    ['A&E', 'Emergency Department', 'A&E carried forward from R0'],
    ['ORDERCOMMS', 'Order Comms', 'Order communications for pathology and radiology'],
    ['THEATRES', 'Theatre Scheduling', 'Theatre scheduling'],
  ],
  [
    ['PAS', 'Patient Administration', 'Extends the PAS functionality of the first two releases'],
    ['SPINE', 'Spine Connection', 'First Spine-compliant release'],
    ['MATERNITY', 'Maternity', 'Maternity'],
    ['BEDMGMT', 'Bed Management', 'Bed management'],
  ],
];
const SITE_STATES: Record<Status, string> = {
  [Status.Planned]: 'SCHEDULED',
  [Status.Live]: 'GO-LIVE ACHIEVED',
  [Status.Postponed]: 'RESCHEDULED',
  [Status.Cancelled]: 'WITHDRAWN',
  [Status.SwitchedOff]: 'DECOMMISSIONED',
};

function noteText(kind: NoteKind, firstPlanned: string): string | null {
  switch (kind) {
    case NoteKind.None:
      return null;
    case NoteKind.DateNotPublished:
      return 'Date not published (synthetic)';
    case NoteKind.Replanned:
      return `First planned ${firstPlanned} and missed (synthetic)`;
    case NoteKind.Postponed:
      return `Planned ${firstPlanned}, postponed; no new date published (synthetic)`;
    case NoteKind.Cancelled:
      return 'Withdrawn from the programme (synthetic)';
    case NoteKind.SwitchedOff:
      return 'Switched off Millennium after go-live (synthetic)';
  }
}

async function writeFujitsuReport(out: ChunkedWriter, report: Report): Promise<number> {
  const uk = dateFormatter('uk');
  const provider = report.day >= BT_TAKEOVER ? 'BT' : null;
  const columns: readonly Column[] = provider ? [...COLUMNS, 'Provider'] : COLUMNS;
  const position = new Map(columns.map((c, i) => [c, i]));
  const row = (values: Partial<Record<Column, string | null>>): string => {
    const cells = new Array<string>(columns.length).fill('');
    for (const [column, value] of Object.entries(values) as [Column, string | null][]) {
      const at = position.get(column);
      if (at !== undefined && value !== null) cells[at] = csvCell(value);
    }
    return cells.join(',');
  };
  let rows = 0;
  const emit = async (values: Partial<Record<Column, string | null>>) => {
    rows += 1;
    await out.line(row(values));
  };

  await out.line(columns.join(','));
  const who = provider === 'BT' ? 'BT' : 'Fujitsu Services';
  await emit({
    RecordType: 'HDR',
    ReportDate: uk(report.day),
    Note: `${who}: Southern Programme for IT, Millennium release and deployment schedule. SYNTHETIC report ${report.index + 1} of ${report.total} generated by scripts/feed-generate.ts (seed ${report.seed}); not real data.`,
    Provider: provider,
  });

  const events = releaseEvents(report.index, report.total, report.firstDay);
  const shift = yearShift(report.firstDay);
  const counts = countByRelease(report);
  const resetDate = events.r2Suspended === null ? null : uk(events.r2Suspended);
  const reset = resetDate === null ? 'OUT OF SCOPE' : 'UNDER RESET';
  await emit({
    RecordType: 'REL',
    ReleaseRef: 'R0',
    ReleaseTitle: 'Release 0 (Foundation)',
    DesignState: 'DESIGN SIGNED OFF',
    TargetDate: String(2005 + shift),
    SpineConformant: 'N',
    ResetState: 'OUT OF SCOPE',
    Note: 'Synthetic foundation release.',
  });
  await emit({
    RecordType: 'REL',
    ReleaseRef: 'R1',
    ReleaseTitle: 'Release 1',
    DesignState: events.r1SignedOff === null ? 'IN DESIGN' : 'DESIGN SIGNED OFF',
    DesignStateDate: events.r1SignedOff === null ? null : uk(events.r1SignedOff),
    TargetDate: String(2008 + shift),
    SpineConformant: 'N',
    SitesPlanned: String(counts.notCancelled[1]),
    ResetState: reset,
    ResetDate: resetDate,
    Note: 'Synthetic; sites planned counts every trust not withdrawn.',
  });
  await emit({
    RecordType: 'REL',
    ReleaseRef: 'R2',
    ReleaseTitle: 'Release 2',
    DesignState: events.r2Suspended === null ? 'IN DESIGN' : 'DESIGN SUSPENDED',
    DesignStateDate: resetDate,
    TargetDate: String(2009 + shift + events.r2Slip),
    SpineConformant: 'Y',
    ResetState: reset,
    ResetDate: resetDate,
    Note: events.r2Slip > 0 ? `Synthetic; target slipped ${events.r2Slip} year(s).` : 'Synthetic.',
  });
  for (const [release, modules] of SOUTH_MODULES.entries()) {
    for (const [ref, title, scope] of modules) {
      await emit({ RecordType: 'MOD', ReleaseRef: RELEASE_CODES[release], ModuleRef: ref, ModuleTitle: title, ModuleScope: scope });
    }
  }

  // SITE rows: the hot loop, written from a fixed template rather than through `row`.
  const { states, plans } = report;
  const at = (column: Column) => position.get(column) ?? -1;
  if (at('RecordType') !== 0 || at('ReportDate') !== 1 || at('ReleaseRef') !== 2) throw new Error('unexpected Fujitsu column order');
  if ([at('SiteName'), at('SiteState'), at('PlannedLive'), at('ActualLive'), at('Note')].some((p, k) => p !== at('SiteCode') + 1 + k)) {
    throw new Error('unexpected Fujitsu column order');
  }
  const gap = ','.repeat(at('SiteCode') - at('ReleaseRef')); // ReleaseTitle .. ModuleScope are empty
  const tail = ','.repeat(columns.length - 1 - at('Note'));
  for (let i = 0; i < plans.count; i += 1) {
    const planned = states.planned[i] as number;
    const actual = states.actual[i] as number;
    const note = noteText(states.note[i] as NoteKind, uk(states.firstPlanned[i] as number));
    await out.line(
      `SITE,,${RELEASE_CODES[plans.release[i] as number]}${gap}${report.codes[i]},${csvCell(report.names[i] as string)},${
        SITE_STATES[states.status[i] as Status]
      },${planned < 0 ? '' : uk(planned)},${actual < 0 ? '' : uk(actual)},${note === null ? '' : csvCell(note)}${tail}`,
    );
  }
  return rows + plans.count;
}

// --- BT JSON ---------------------------------------------------------------------------------

const LONDON_FUNCTIONS: readonly (readonly [string, string, string])[][] = [
  [
    ['PAS', 'Patient Administration', 'Replaced the legacy PAS'],
    ['A_AND_E', 'Emergency Department', 'A&E live shortly after PAS'],
    ['WARDS', 'Ward Clinicals', 'Ward functions'],
  ],
  [
    ['PAS', 'Patient Administration', 'London Configuration PAS'],
    ['A_AND_E', 'Emergency Department', 'A&E'],
    ['ORDERS_RESULTS', 'Orders and Results', 'Orders and results reporting'],
    ['SPINE', 'Spine and smartcards', 'Spine-connected with smartcard access'],
  ],
  [
    ['PAS', 'Patient Administration', 'London specification of the R2 PAS'],
    ['SPINE', 'Spine and smartcards', 'Spine-compliant'],
    ['MATERNITY', 'Maternity', 'Maternity'],
    ['BED_MANAGEMENT', 'Bed Management', 'Bed management'],
  ],
];
const BT_STATUSES: Record<Status, string> = {
  [Status.Planned]: 'Planned',
  [Status.Live]: 'Live',
  [Status.Postponed]: 'Deferred',
  [Status.Cancelled]: 'Cancelled',
  [Status.SwitchedOff]: 'Decommissioned',
};

async function writeBtReport(out: ChunkedWriter, report: Report): Promise<number> {
  const iso = dateFormatter('iso');
  const events = releaseEvents(report.index, report.total, report.firstDay);
  const shift = yearShift(report.firstDay);
  const nonAcute = [{ product: 'RiO', vendor: 'CSE Servelec', careSetting: 'Community and mental health', note: 'Synthetic' }];
  const configuration = (
    release: number,
    name: string,
    phase: string,
    changed: number | null,
    year: number,
    spine: boolean,
    remarks: string,
  ) => ({
    programmeRelease: RELEASE_CODES[release],
    configurationName: name,
    designPhase: phase,
    designPhaseChanged: changed === null ? null : iso(changed),
    plannedAvailability: { date: null, year },
    spineConnected: spine,
    plannedSites: null,
    functions: (LONDON_FUNCTIONS[release] ?? []).map(([fn, label, scope]) => ({ function: fn, label, scope })),
    nonAcuteProducts: nonAcute,
    remarks,
  });
  const configurations = [
    configuration(0, 'Millennium R0 (London)', 'Design Complete', null, 2007 + shift, false, 'Synthetic foundation release.'),
    configuration(
      1,
      'LC1',
      events.r1SignedOff === null ? 'In Design' : 'Design Complete',
      events.r1SignedOff ?? report.firstDay - 30,
      2008 + shift,
      true,
      'Synthetic; LC1 mapped to R1.',
    ),
    configuration(
      2,
      'LC2',
      'In Design',
      null,
      2009 + shift + events.r2Slip,
      true,
      events.r2Slip > 0 ? `Synthetic; LC2 mapped to R2; availability slipped ${events.r2Slip} year(s).` : 'Synthetic; LC2 mapped to R2.',
    ),
  ];
  const extract = {
    publisher: 'BT Health London',
    programme: 'London Programme for IT',
    asAt: iso(report.day),
    sources: `SYNTHETIC report ${report.index + 1} of ${report.total} generated by scripts/feed-generate.ts (seed ${report.seed}); not real data.`,
  };
  const indent = (json: string, by: string) => json.replaceAll('\n', `\n${by}`);
  await out.line('{');
  await out.line(`  "extract": ${indent(JSON.stringify(extract, null, 2), '  ')},`);
  await out.line(`  "configurations": ${indent(JSON.stringify(configurations, null, 2), '  ')},`);
  await out.line('  "deployments": [');
  const { states, plans } = report;
  const q = JSON.stringify;
  for (let i = 0; i < plans.count; i += 1) {
    const planned = states.planned[i] as number;
    const actual = states.actual[i] as number;
    const note = noteText(states.note[i] as NoteKind, iso(states.firstPlanned[i] as number));
    await out.line(
      `    { "odsCode": "${report.codes[i]}", "organisation": ${q(report.names[i])}, "release": "${
        RELEASE_CODES[plans.release[i] as number]
      }", "status": "${BT_STATUSES[states.status[i] as Status]}", "plannedDate": ${planned < 0 ? 'null' : `"${iso(planned)}"`}, "liveDate": ${
        actual < 0 ? 'null' : `"${iso(actual)}"`
      }, "comment": ${note === null ? 'null' : q(note)} }${i + 1 < plans.count ? ',' : ''}`,
    );
  }
  await out.line('  ]');
  await out.line('}');
  return configurations.length + plans.count;
}

function countByRelease(report: Report): { notCancelled: [number, number, number] } {
  const notCancelled: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < report.plans.count; i += 1) {
    if (report.states.status[i] !== Status.Cancelled) notCancelled[report.plans.release[i] as 0 | 1 | 2] += 1;
  }
  return { notCancelled };
}

// --- trusts.json -----------------------------------------------------------------------------

interface ExtraTrust {
  odsCode: string;
  name: string;
  clusterId: string;
  odsCodeConfidence?: string;
}

function isExtraTrust(value: unknown): value is ExtraTrust {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.odsCode === 'string' && typeof v.name === 'string' && typeof v.clusterId === 'string';
}

async function mergeTrusts(path: string, supplier: Supplier, codes: readonly string[], names: readonly string[]): Promise<void> {
  let existing: ExtraTrust[] = [];
  let text: string | null = null;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== null) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new Error(`${path} is not valid JSON (${(error as Error).message}); move it away or delete it`);
    }
    if (!Array.isArray(json) || !json.every(isExtraTrust)) {
      throw new Error(`${path} is not an EXTRA_TRUSTS_FILE array of { odsCode, name, clusterId }; move it away or delete it`);
    }
    existing = json;
  }
  // This supplier's synthetic codes all share its prefix: drop them all (also those beyond
  // the new count), keep everything else, e.g. the other supplier's.
  const ours = new RegExp(`^${SPECS[supplier].codePrefix}[0-9A-Z]{4}$`);
  const kept = existing.filter((t) => !ours.test(t.odsCode));
  const clusterId = SPECS[supplier].clusterId;
  await writeAtomically(path, async (out) => {
    await out.line('[');
    const entries: ExtraTrust[] = [...kept];
    for (let i = 0; i < codes.length; i += 1) {
      entries.push({ odsCode: codes[i] as string, name: names[i] as string, clusterId, odsCodeConfidence: 'UNVERIFIED' });
    }
    entries.sort((a, b) => (a.odsCode < b.odsCode ? -1 : a.odsCode > b.odsCode ? 1 : 0));
    for (let i = 0; i < entries.length; i += 1) await out.line(`  ${JSON.stringify(entries[i])}${i + 1 < entries.length ? ',' : ''}`);
    await out.line(']');
  });
}

// ---------------------------------------------------------------------------------------------
// The generator

function checkWhole(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be a whole number from ${min} to ${max}; got ${value}`);
  }
}

/** Generates one supplier's synthetic feed folder and merges its trusts into `<outRoot>/trusts.json`. */
export async function generateFeeds(options: GenerateOptions): Promise<GenerateResult> {
  const spec = SPECS[options.supplier];
  if (!spec) throw new RangeError(`supplier must be one of ${SUPPLIERS.join(', ')}; got ${String(options.supplier)}`);
  checkWhole('trusts', options.trusts, 1, MAX_TRUSTS);
  checkWhole('snapshots', options.snapshots, 1, MAX_SNAPSHOTS);
  const start = options.start ?? DEFAULT_START;
  if (!isIsoDate(start)) throw new RangeError(`start must be an ISO date yyyy-mm-dd naming a real day; got ${start}`);
  const seed = options.seed ?? DEFAULT_SEED;
  checkWhole('seed', seed, 0, 0xffffffff);

  const outRoot = resolve(options.outRoot);
  const dir = join(outRoot, options.supplier);
  const trustsFile = join(outRoot, 'trusts.json');
  await mkdir(dir, { recursive: true });

  const codes: string[] = [];
  const names: string[] = [];
  const real = new Set(builtInTrusts.map((t) => t.odsCode));
  for (let i = 1; i <= options.trusts; i += 1) {
    const code = syntheticOdsCode(options.supplier, i);
    if (real.has(code)) throw new Error(`synthetic ODS code ${code} clashes with a real trust`);
    codes.push(code);
    names.push(syntheticTrustName(options.supplier, i, options.trusts));
  }
  // The trusts first, so that a server reading the new feeds already knows them.
  await mergeTrusts(trustsFile, options.supplier, codes, names);

  for (const name of await readdir(dir)) {
    if (spec.filePattern.test(name)) await unlink(join(dir, name));
  }

  const firstDay = isoToDay(start);
  const span = 7 * Math.max(options.snapshots - 1, 4);
  // The supplier is mixed into the seed so the two clusters do not move in lockstep.
  const plans = drawPlans(options.trusts, (seed ^ (options.supplier === 'south' ? 0x5eed5 : 0x10d0)) >>> 0, firstDay, span);
  const files: string[] = [];
  let rows = 0;
  let states: States | undefined;
  options.onProgress?.(0, options.snapshots);
  for (let index = 0; index < options.snapshots; index += 1) {
    const day = firstDay + 7 * index;
    states = statesOn(plans, day, states);
    const report: Report = { index, total: options.snapshots, day, firstDay, seed, states, codes, names, plans };
    const path = join(dir, spec.fileName(dayToIso(day)));
    await writeAtomically(path, async (out) => {
      rows += options.supplier === 'south' ? await writeFujitsuReport(out, report) : await writeBtReport(out, report);
    });
    files.push(path);
    options.onProgress?.(index + 1, options.snapshots);
  }
  return { dir, files, trustsFile, rows };
}

// ---------------------------------------------------------------------------------------------
// The command line

const USAGE =
  'usage: npm run feed:generate -- --supplier south|london [--trusts N] [--snapshots N] [--out DIR] [--start YYYY-MM-DD] [--seed N]';

class UsageError extends Error {}

function wholeArg(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Parses the command line; throws UsageError naming the bad argument. */
export function parseCli(argv: readonly string[]): Omit<GenerateOptions, 'onProgress'> | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        supplier: { type: 'string' },
        trusts: { type: 'string' },
        snapshots: { type: 'string' },
        out: { type: 'string' },
        start: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const supplier = values.supplier;
  if (typeof supplier !== 'string') throw new UsageError(`--supplier is required: one of ${SUPPLIERS.join(', ')}`);
  if (!(SUPPLIERS as readonly string[]).includes(supplier)) {
    throw new UsageError(`--supplier must be one of ${SUPPLIERS.join(', ')}; got ${JSON.stringify(supplier)}`);
  }
  const str = (name: string) => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const start = str('start');
  if (start !== undefined && !isIsoDate(start)) {
    throw new UsageError(`--start must be an ISO date YYYY-MM-DD naming a real day; got ${JSON.stringify(start)}`);
  }
  const out = str('out');
  if (out !== undefined && out.trim() === '') throw new UsageError('--out must name a folder');
  return {
    supplier: supplier as Supplier,
    trusts: wholeArg('trusts', str('trusts'), 1000, 1, MAX_TRUSTS),
    snapshots: wholeArg('snapshots', str('snapshots'), 12, 1, MAX_SNAPSHOTS),
    outRoot: out ?? '.data/generated',
    ...(start !== undefined ? { start } : {}),
    seed: wholeArg('seed', str('seed'), DEFAULT_SEED, 0, 0xffffffff),
  };
}

async function main(argv: readonly string[]): Promise<number> {
  let options: Omit<GenerateOptions, 'onProgress'> | 'help';
  try {
    options = parseCli(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`feed:generate: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { supplier } = options;
  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  let result: GenerateResult;
  try {
    result = await generateFeeds({
      ...options,
      onProgress: (done, total) => {
        if (done === 0 && !tty) return;
        process.stderr.write(`${tty ? '\r' : ''}${supplier}: ${done}/${total} snapshots${tty && done < total ? '' : '\n'}`);
      },
    });
  } catch (error) {
    process.stderr.write(`feed:generate: ${(error as Error).message}\n`);
    return 1;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const spec = SPECS[supplier];
  let largest = 0;
  for (const file of result.files) largest = Math.max(largest, (await stat(file)).size);
  // The subgraphs refuse feed files above FEED_MAX_BYTES (64 MiB by default).
  const maxBytes = largest > 64 * 1024 * 1024 ? ` FEED_MAX_BYTES=${Math.ceil((largest * 1.1) / 1024 / 1024) * 1024 * 1024}` : '';
  process.stdout.write(
    [
      `${supplier}: wrote ${result.files.length} feed file(s), ${result.rows} rows in total, to ${result.dir} (${seconds}s)`,
      `trusts: ${result.trustsFile}`,
      'serve them with:',
      `  ${spec.envVar}=${shellQuote(result.dir)} EXTRA_TRUSTS_FILE=${shellQuote(result.trustsFile)}${maxBytes} npm start`,
      '',
    ].join('\n'),
  );
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
