/**
 * The supplier's tools say what the operator must register: `subgraph:new` and
 * `subgraph:check` for a cluster the programme does not know print the exact
 * `registry:cluster` command, and `registry:token --supplier X` warns when X is unknown; once
 * the membership (in this machine's REGISTRY_DIR) has the cluster, they say nothing of it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileMembershipStore } from '../gateway/registry/membership.js';

const dir = mkdtempSync(join(tmpdir(), 'msg-membership-cli-'));
const env = { ...process.env, REGISTRY_DIR: join(dir, 'registry'), REDIS_URL: '' };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { env }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

const COMMAND =
  'npm run registry:cluster -- add NORTHEAST --name "<cluster name>" --supplier ACCENTURE:"<supplier name>" --trust "<ODS code>":"<trust name>"';

describe('what the operator must register, as the supplier tools say it', () => {
  const out = join(dir, 'northeast');
  const check = () =>
    run('scripts/subgraph-check.ts', [
      '--name',
      'northeast',
      '--schema',
      join(out, 'schema.graphql'),
      '--cluster',
      'NORTHEAST',
      '--supplier',
      'ACCENTURE',
    ]);

  it('before the registration: the scaffold, the check and the token name the command', async () => {
    const scaffold = await run('scripts/subgraph-new.ts', ['NORTHEAST', '--supplier', 'ACCENTURE', '--out', out]);
    expect(scaffold.code).toBe(0);
    expect(scaffold.stdout).toContain(
      `An operator must register cluster NORTHEAST and supplier ACCENTURE before a publish will pass (with an operator token): ${COMMAND}\n`,
    );
    expect(scaffold.stdout).toContain('--cluster NORTHEAST --supplier ACCENTURE\n');

    const checked = await check();
    expect(checked.code).toBe(1);
    expect(checked.stdout).toContain('[CONTRACT_CLUSTER_UNKNOWN] Cluster NORTHEAST is not in the programme');
    expect(checked.stdout).toContain('[CONTRACT_SUPPLIER_UNKNOWN] Supplier ACCENTURE is not in the programme');
    expect(checked.stdout).toContain(COMMAND);

    const token = await run('scripts/registry-token.ts', ['--supplier', 'ACCENTURE', '--subgraphs', 'northeast']);
    expect(token.code).toBe(0);
    expect(token.stderr).toContain('Warning: the programme does not know supplier ACCENTURE (it knows FUJITSU, BT, CERNER, CSC)');
    expect(token.stderr).toMatch(/--supplier ACCENTURE:"<supplier name>" --trust "<ODS code>":"<trust name>"\n$/);
  });

  it('after it: nothing to register', async () => {
    const store = new FileMembershipStore(join(env.REGISTRY_DIR, 'membership.json'));
    const at = new Date().toISOString();
    const cluster = {
      id: 'NORTHEAST',
      name: 'North East',
      supplier: { id: 'ACCENTURE', name: 'Accenture' },
      trusts: [],
      registeredBy: 'OPERATOR',
      registeredAt: at,
    };
    expect(
      await store.compareAndSet(0, {
        version: 1,
        clusters: [cluster],
        change: { action: 'register', cluster: 'NORTHEAST', by: 'OPERATOR', at },
      }),
    ).toBe(true);
    await store.close();

    const checked = await check();
    expect(checked.stdout).not.toContain('UNKNOWN');
    expect(checked.stdout).toContain('PASSED');
    expect(checked.code).toBe(0);
    const token = await run('scripts/registry-token.ts', ['--supplier', 'ACCENTURE', '--subgraphs', 'northeast']);
    expect(token.stderr).not.toContain('Warning');
    const scaffold = await run('scripts/subgraph-new.ts', ['NORTHEAST', '--out', join(dir, 'again')]);
    expect(scaffold.stdout).toContain('(cluster NORTHEAST, supplier ACCENTURE)');
    expect(scaffold.stdout).not.toContain('must register');
  });
});
