import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtInSdls } from '../../test/built-ins.js';
import { loadRegistryCheckSettings } from '../config.js';
import { checkSubgraph, type CheckInput } from './checks.js';
import { CheckAbortedError, runChecks } from './worker.js';

const NME_SDL = readFileSync(new URL('../../test/fixtures/nme/schema.graphql', import.meta.url), 'utf8');
const input: CheckInput = { name: 'nme', sdl: NME_SDL, url: null, published: [], builtIns: builtInSdls(), operations: [] };
const settings = loadRegistryCheckSettings({});

describe('the check worker', () => {
  it('runs the same checks as in process, and loads the supergraph they compose', async () => {
    const [inWorker, inProcess] = await Promise.all([runChecks(input, settings), checkSubgraph(input)]);
    expect(inWorker).toEqual(inProcess);
    expect(inWorker.report.ok).toBe(true);
  }, 60_000);

  it('refuses an SDL over the limits without starting any work', async () => {
    const { report } = await runChecks(input, { ...settings, sdl: { ...settings.sdl, maxFields: 10 } });
    expect(report.ok).toBe(false);
    expect(report.sdl).toEqual([{ code: 'SDL_TOO_LARGE', message: expect.stringContaining('(REGISTRY_SDL_MAX_FIELDS)') }]);
  });

  it('stops a task over its time, and the next task still runs', async () => {
    const stopped = runChecks(input, { ...settings, worker: { ...settings.worker, timeoutMs: 5 } });
    await expect(stopped).rejects.toThrow(CheckAbortedError);
    await expect(stopped).rejects.toThrow('the checks took longer than 5 ms (REGISTRY_CHECK_TIMEOUT_MS) and were stopped');
    expect((await runChecks(input, settings)).report.ok).toBe(true);
  }, 60_000);

  it('stops a task over its memory', async () => {
    // 16 MB cannot even hold composition's code and the built-in subgraphs.
    const stopped = runChecks(input, { ...settings, worker: { ...settings.worker, maxMb: 16 } });
    await expect(stopped).rejects.toThrow('the checks needed more than 16 MB (REGISTRY_CHECK_MAX_MB) and were stopped');
  }, 60_000);
});
