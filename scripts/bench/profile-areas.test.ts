import { describe, expect, it } from 'vitest';
import { areaOf, selfTimes, shareRows, type CpuProfile } from './profile-areas.js';

describe('areaOf', () => {
  it('names the area of a frame from its URL', () => {
    expect(areaOf('buildQueryPlan', 'file:///app/node_modules/@apollo/query-planner/dist/buildPlan.js')).toBe('Apollo query planner');
    expect(areaOf('executeNode', 'file:///app/node_modules/@apollo/gateway/dist/executeQueryPlan.js')).toBe('Apollo gateway executor');
    expect(areaOf('parse', 'file:///app/node_modules/graphql/language/parser.js')).toBe('graphql-js language');
    expect(areaOf('validate', 'file:///app/node_modules/@apollo/gateway/node_modules/graphql/validation/validate.js')).toBe(
      'graphql-js validation',
    );
    expect(areaOf('jsonParser', 'file:///app/node_modules/body-parser/lib/types/json.js')).toBe('express & middleware');
    expect(areaOf('write', 'file:///app/node_modules/sonic-boom/index.js')).toBe('pino');
    expect(areaOf('process', 'file:///work/wt-x/gateway/data-source.ts')).toBe('ours: gateway/data-source.ts');
    expect(areaOf('writeHead', 'node:_http_server')).toBe('node http');
    expect(areaOf('(garbage collector)', '')).toBe('GC');
  });
});

describe('selfTimes', () => {
  const profile: CpuProfile = {
    startTime: 1_000,
    nodes: [
      { id: 1, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
      {
        id: 2,
        callFrame: { functionName: 'executeNode', url: 'file:///a/node_modules/@apollo/gateway/dist/executeQueryPlan.js', lineNumber: 9 },
      },
      { id: 3, callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1 } },
    ],
    samples: [2, 1, 2, 3, 2],
    timeDeltas: [1_000, 5_000, 1_000, 1_000, 2_000],
  };

  it('sums self time by area, idle left out, from the given time on', () => {
    const all = selfTimes(profile);
    expect(all.total).toBe(5);
    expect(all.areas.get('Apollo gateway executor')).toBe(4);
    expect(shareRows(all.areas, all.total, 5)).toEqual(['| Apollo gateway executor | 80.0% |', '| GC | 20.0% |']);
    // The first sample (at 2,000 µs) is before the load started.
    const timed = selfTimes(profile, 3_000);
    expect(timed.total).toBe(4);
    expect(timed.functions.get('executeNode @apollo/gateway/dist/executeQueryPlan.js:10')).toBe(3);
  });
});
