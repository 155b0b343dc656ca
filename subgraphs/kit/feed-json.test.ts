import { describe, expect, it } from 'vitest';
import { refusal } from '../../test/feed-refusal.js';
import { checkJsonDepth } from './feed-json.js';
import { kitJsonFeedFormat } from './json-feed-format.js';

const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('the JSON depth bound', () => {
  it('takes a document at the limit and counts no bracket inside a string', () => {
    expect(() => checkJsonDepth({ file: 'a.json', text: deep(3) }, 3)).not.toThrow();
    expect(() => checkJsonDepth({ file: 'a.json', text: `{"a": "[[[[[[\\"[[[", "b": [1]}` }, 2)).not.toThrow();
  });

  it('names the line and the path, keys and indices, where a document goes too deep', () => {
    const text = '{\n  "releases": [1, 2,\n    {"remarks": [[[0]]]}]}';
    const error = refusal(() => checkJsonDepth({ file: 'a.json', text }, 4));
    expect(error.issues).toEqual([
      {
        file: 'a.json',
        line: 3,
        path: '$.releases[2].remarks[0]',
        field: '(document)',
        value: null,
        message: 'nests arrays and objects more than 4 deep',
      },
    ]);
  });

  it("guards the kit's own JSON format too", () => {
    const format = kitJsonFeedFormat({ clusterId: 'NME', supplierId: 'CSC' });
    const error = refusal(() => format.parse({ file: 'nme.json', text: `{"asOf": "2007-09-06", "releases": ${deep(1_000_000)}}` }));
    expect(error.issues[0]).toMatchObject({ line: 1, path: expect.stringMatching(/^\$\.releases(\[0\])+$/), field: '(document)' });
  });
});
