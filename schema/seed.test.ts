import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSeed, SEED_FILE, seed, SeedError } from './seed.js';

const good = () => JSON.parse(readFileSync(SEED_FILE, 'utf8'));

describe('the programme seed (schema/seed.json)', () => {
  it('holds the programme as the story tells it', () => {
    expect(seed.clusters.map((c) => `${c.id}:${c.serviceProviderId}`)).toEqual(['SOUTH:FUJITSU', 'LONDON:BT', 'NME:CSC']);
    expect(seed.releases.map((r) => r.code)).toEqual(['R0', 'R1', 'R2']);
    expect(seed.trusts).toHaveLength(17);
    expect(seed.trusts.filter((t) => t.clusterId === 'SOUTH')).toHaveLength(9);
  });

  it('refuses a bad shape, naming the file, the path and the field', () => {
    const json = good();
    json.trusts[2].odsCode = 'rxq';
    delete json.clusters[1].name;
    json.releases[0].extra = true;
    const error = (() => {
      try {
        parseSeed(json, 'seed.json');
      } catch (e) {
        return e as Error;
      }
      throw new Error('accepted');
    })();
    expect(error).toBeInstanceOf(SeedError);
    expect(error.message).toContain('Seed seed.json rejected (3 problems)');
    expect(error.message).toContain('at trusts[2].odsCode: must be an ODS code');
    expect(error.message).toMatch(/at clusters\[1\]\.name: /);
    expect(error.message).toMatch(/at releases\[0\]: Unrecognized key: "extra"/);
  });

  it('refuses what no single record shows: repeated ids and unknown references', () => {
    const json = good();
    json.trusts[5].odsCode = json.trusts[0].odsCode;
    json.clusters[2].serviceProviderId = 'ACCENTURE';
    json.trusts[9].clusterId = 'NORTHEAST';
    expect(() => parseSeed(json, 'seed.json')).toThrow(
      [
        'Seed seed.json rejected (3 problems):',
        '  - at trusts[5].odsCode: RBF appears twice',
        '  - at clusters[2].serviceProviderId: unknown supplier ACCENTURE',
        '  - at trusts[9].clusterId: unknown cluster NORTHEAST',
      ].join('\n'),
    );
  });

  it('refuses what is not an object', () => {
    expect(() => parseSeed([], 'seed.json')).toThrow(/Seed seed.json rejected \(1 problem\):\n  - at \(top\): /);
  });
});
