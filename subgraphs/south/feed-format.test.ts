import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { refusal } from '../../test/feed-refusal.js';
import { readFeed } from '../kit/feed-format.js';
import { buildViews } from '../kit/views.js';
import { feedReference } from '../programme/reference.js';
import { fujitsuFeedFormat, parseFujitsuFeed } from './feed-format.js';

const FILE = 'fujitsu-south-2007-09-06.csv';
const sample = readFileSync(new URL(`./feed/${FILE}`, import.meta.url), 'utf8');
const lines = sample.trimEnd().split('\n');
const read = (text: string, file = 'test.csv') => readFeed(fujitsuFeedFormat, file, Buffer.from(text), feedReference);

/** The error for `text`, which must be refused. */
const refused = (text: string) => refusal(() => read(text));

const replaceLine = (index: number, from: string, to: string) => lines.map((l, i) => (i === index ? l.replace(from, to) : l)).join('\n');
const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle));

describe("Fujitsu's CSV feed", () => {
  it("reads the sample report into the South's view", () => {
    const snapshot = read(sample, FILE);
    expect(snapshot).toMatchObject({ supplierId: 'FUJITSU', clusterId: 'SOUTH', asOf: '2007-09-06', rows: lines.length - 1 });
    expect(snapshot.checksum).toMatch(/^[0-9a-f]{64}$/);
    const views = buildViews(snapshot);
    expect(views.releases.get('R2')).toMatchObject({
      localName: 'Release 2',
      designStatus: 'SUSPENDED',
      designSuspendedOn: '2007-08-17',
      plannedYear: 2009,
      spineCompliant: true,
      contractReset: { status: 'UNDER_RESET', since: '2007-08-17' },
    });
    expect(views.releases.get('R0')?.trustsLive).toBe(6);
    expect(views.trusts.get('RBA')?.rollout[0]).toMatchObject({
      status: 'POSTPONED',
      localStatus: 'RESCHEDULED',
      plannedGoLive: '2007-06-30',
    });
  });

  it('accepts a byte-order mark, CRLF line ends, trailing blank lines and quoted commas', () => {
    const messy = `\uFEFF${lines.join('\r\n')}\r\n\r\n\r\n`;
    const snapshot = read(messy);
    expect(snapshot.asOf).toBe('2007-09-06');
    expect(snapshot.rollout.find((r) => r.odsCode === 'RN1')?.note).toContain('PAS, A&E, part maternity');
  });

  it('names file, line, field and value of a status word it does not know', () => {
    const at = lineOf(',RD8,');
    const error = refused(replaceLine(at, 'GO-LIVE ACHIEVED', 'LIVE-ISH'));
    expect(error.issues).toEqual([expect.objectContaining({ file: 'test.csv', line: at + 1, field: 'SiteState', value: 'LIVE-ISH' })]);
    expect(error.message).toContain(`test.csv line ${at + 1}, field SiteState`);
    expect(error.message).toContain('"GO-LIVE ACHIEVED"');
  });

  it("refuses words that are only names of JavaScript's object methods", () => {
    const at = lineOf(',RD8,');
    const error = refused(replaceLine(at, 'GO-LIVE ACHIEVED', 'constructor'));
    expect(error.issues[0]).toMatchObject({ line: at + 1, field: 'SiteState', value: 'constructor' });
    const rel = lineOf('REL,,R2');
    expect(refused(replaceLine(rel, 'DESIGN SUSPENDED', 'toString')).issues[0]).toMatchObject({ field: 'DesignState', value: 'toString' });
  });

  it('refuses an ISO date where Fujitsu writes dd/mm/yyyy', () => {
    const at = lineOf(',RBF,');
    const error = refused(replaceLine(at, '22/12/2005', '2005-12-22'));
    expect(error.issues[0]).toMatchObject({ line: at + 1, field: 'ActualLive', value: '2005-12-22' });
  });

  it('refuses a header without a required column', () => {
    const error = refused([lines[0]!.replace(',SiteState', ''), ...lines.slice(1)].join('\n'));
    expect(error.issues[0]).toMatchObject({ line: 1, field: 'SiteState' });
  });

  it('refuses a row for a trust the programme does not know', () => {
    const at = lineOf(',RBF,');
    const error = refused(replaceLine(at, ',RBF,', ',ZZZ,'));
    expect(error.issues[0]).toMatchObject({ line: at + 1, field: 'trust', value: 'ZZZ', message: 'unknown trust ODS code' });
  });

  it('refuses a release the programme does not know, and a repeated row', () => {
    const site = lines[lineOf(',RBF,')]!;
    const renamed = lines.map((l) => (/^(REL|MOD),,R2,/.test(l) ? l.replace(',,R2,', ',,R7,') : l));
    const error = refused([...renamed, site].join('\n'));
    const fields = error.issues.map((i) => `${i.field}:${String(i.value)}:${i.message}`);
    expect(fields).toContain('release:R7:unknown release code');
    expect(fields).toContain('trust:RBF/R0:the same trust and release appear twice');
  });

  it('refuses a file without its HDR row, and an unknown record type', () => {
    const noHeader = refused(lines.filter((l) => !l.startsWith('HDR')).join('\n'));
    expect(noHeader.issues.some((i) => /no HDR row/.test(i.message))).toBe(true);
    const unknown = refused(`${sample}XYZ${','.repeat(19)}\n`);
    expect(unknown.issues[0]).toMatchObject({ field: 'RecordType', value: 'XYZ', line: lines.length + 1 });
  });

  it('reports a row with the wrong number of columns as bad CSV, with its line', () => {
    const error = refused(`${sample}SITE,oops\n`);
    expect(error.issues[0]?.message).toMatch(/not valid CSV/);
    expect(error.issues[0]?.line).toBe(lines.length + 1);
  });

  it('is a pure parser: the parse step alone does not consult the programme', () => {
    const parsed = parseFujitsuFeed({ file: 'x.csv', text: replaceLine(lineOf(',RBF,'), ',RBF,', ',ZZZ,') });
    expect(parsed.rollout.some((r) => r.value.odsCode === 'ZZZ')).toBe(true);
  });
});
