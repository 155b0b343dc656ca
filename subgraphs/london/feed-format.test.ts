import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { refusal } from '../../test/feed-refusal.js';
import { readFeed } from '../kit/feed-format.js';
import { buildViews } from '../kit/views.js';
import { feedReference } from '../programme/reference.js';
import { btFeedFormat } from './feed-format.js';

const FILE = 'bt-london-2007-09-06.json';
const sample = readFileSync(new URL(`./feed/${FILE}`, import.meta.url), 'utf8');
const read = (text: string, file = 'test.json') => readFeed(btFeedFormat, file, Buffer.from(text), feedReference);

/** The error for `text`, which must be refused. */
const refused = (text: string) => refusal(() => read(text));

const edit = (change: (feed: any) => void) => {
  const feed = JSON.parse(sample);
  change(feed);
  return JSON.stringify(feed, null, 2);
};

describe("BT's JSON feed", () => {
  it("reads the sample extract into London's view", () => {
    const snapshot = read(sample, FILE);
    expect(snapshot).toMatchObject({ supplierId: 'BT', clusterId: 'LONDON', asOf: '2007-09-06' });
    const views = buildViews(snapshot);
    expect(views.releases.get('R1')).toMatchObject({ localName: 'LC1', designStatus: 'ACTIVE', plannedYear: 2008, spineCompliant: true });
    expect(views.releases.get('R2')?.nonAcuteProducts[0]).toMatchObject({ name: 'RiO', careSetting: 'Community and mental health' });
    expect(views.releases.get('R0')?.trustsLive).toBe(1);
    expect(views.trusts.get('RVL')?.rollout[0]).toMatchObject({ status: 'LIVE', localStatus: 'Live', actualGoLive: '2007-07-19' });
  });

  it('accepts a byte-order mark and CRLF line ends', () => {
    expect(read(`\uFEFF${sample.replace(/\n/g, '\r\n')}`).asOf).toBe('2007-09-06');
  });

  it('names the JSON path, field and value of a status word it does not know', () => {
    const error = refused(edit((f) => (f.deployments[2].status = 'Sort of live')));
    expect(error.issues).toEqual([
      expect.objectContaining({ file: 'test.json', path: '$.deployments[2].status', field: 'status', value: 'Sort of live' }),
    ]);
    expect(error.message).toContain('"Planned", "Live", "Deferred"');
  });

  it("refuses words that are only names of JavaScript's object methods", () => {
    const error = refused(edit((f) => (f.deployments[1].status = 'hasOwnProperty')));
    expect(error.issues[0]).toMatchObject({ path: '$.deployments[1].status', value: 'hasOwnProperty' });
  });

  it('refuses a UK date where BT writes ISO dates', () => {
    const error = refused(edit((f) => (f.deployments[0].liveDate = '19/07/2007')));
    expect(error.issues[0]).toMatchObject({ path: '$.deployments[0].liveDate', field: 'liveDate', value: '19/07/2007' });
  });

  it('refuses a key the format does not have, so a typo is not silently ignored', () => {
    const error = refused(edit((f) => (f.configurations[1].spineConected = true)));
    expect(error.issues).toEqual([
      expect.objectContaining({ path: '$.configurations[1].spineConected', field: 'spineConected', value: true }),
    ]);
    expect(error.message).toContain('field spineConected: is not a key of this format');
  });

  it('names each unknown key of the extract and of nested objects', () => {
    const top = refused(edit((f) => (f.region = 'London')));
    expect(top.issues).toEqual([expect.objectContaining({ path: '$.region', field: 'region', value: 'London' })]);
    const nested = refused(
      edit((f) => {
        f.deployments[0].colour = 'red';
        f.configurations[0].plannedAvailability.quarter = 'Q3';
      }),
    );
    expect(nested.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: '$.deployments[0].colour', field: 'colour', value: 'red' }),
        expect.objectContaining({
          path: '$.configurations[0].plannedAvailability.quarter',
          field: 'plannedAvailability.quarter',
          value: 'Q3',
        }),
      ]),
    );
  });

  it('names the line of a JSON syntax error', () => {
    const broken = sample.replace('"status": "Live",', '"status": "Live"');
    const error = refused(broken);
    const expectedLine = broken.split('\n').findIndex((l) => l.includes('"status": "Live"')) + 1;
    expect(error.issues[0]?.message).toMatch(/not valid JSON/);
    expect(error.issues[0]?.line).toBeGreaterThanOrEqual(expectedLine);
  });

  it('refuses a deployment of an unknown trust', () => {
    const error = refused(edit((f) => (f.deployments[0].odsCode = 'QQQ')));
    expect(error.issues[0]).toMatchObject({ path: '$.deployments[0]', field: 'trust', value: 'QQQ' });
  });
});
