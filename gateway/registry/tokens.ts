/**
 * Registry tokens. Each supplier has its own token, allowed to publish only its own subgraph
 * names; an operator token may do everything. Only SHA-256 hashes are stored (a JSON file,
 * written by `npm run registry:token`); a presented token is hashed and compared with every
 * stored hash in constant time, so neither the file nor timing gives a token away.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

const entrySchema = z.object({
  supplier: z.string().min(1),
  /** Subgraph names this token may publish and delete; ignored for an operator. */
  subgraphs: z.array(z.string().min(1)).default([]),
  operator: z.boolean().default(false),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 hex digits'),
  createdAt: z.string().optional(),
});
const fileSchema = z.object({ tokens: z.array(entrySchema) });

export type TokenEntry = z.infer<typeof entrySchema>;

/** Who a request's token says it is. */
export interface Principal {
  readonly supplier: string;
  readonly operator: boolean;
  readonly subgraphs: readonly string[];
}

/** Whether `principal` may change subgraph `name`. */
export function mayChange(principal: Principal, name: string): boolean {
  return principal.operator || principal.subgraphs.includes(name);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** Reads the tokens file; a missing file means no tokens (nobody may change anything). */
export function readTokens(file: string): TokenEntry[] {
  if (!existsSync(file)) return [];
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Registry tokens file ${file} is not JSON: ${(error as Error).message}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Registry tokens file ${file} is invalid at ${issue?.path.join('.') || '(top)'}: ${issue?.message}`);
  }
  return parsed.data.tokens;
}

/** The principal of a presented token, or null when it matches no stored hash. */
export function authenticate(entries: readonly TokenEntry[], token: string): Principal | null {
  const presented = sha256(token);
  let found: TokenEntry | null = null;
  // Every entry is compared, matched or not, so the time taken says nothing about the token.
  for (const entry of entries) {
    if (timingSafeEqual(presented, Buffer.from(entry.sha256, 'hex')) && !found) found = entry;
  }
  return found ? { supplier: found.supplier, operator: found.operator, subgraphs: found.subgraphs } : null;
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1]! : null;
}

/**
 * Mints a token for a supplier (or an operator), adds its hash to the tokens file and
 * returns the token itself: the only time it is ever shown.
 */
export function mintToken(file: string, grant: { supplier: string; subgraphs: readonly string[]; operator: boolean }): string {
  const token = `msr_${randomBytes(24).toString('base64url')}`;
  const entries = readTokens(file);
  const entry: TokenEntry = {
    supplier: grant.supplier,
    subgraphs: [...grant.subgraphs],
    operator: grant.operator,
    sha256: sha256(token).toString('hex'),
    createdAt: new Date().toISOString(),
  };
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify({ tokens: [...entries, entry] }, null, 2), { mode: 0o600 });
  renameSync(temporary, file);
  return token;
}
