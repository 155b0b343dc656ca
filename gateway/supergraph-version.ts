import { createHash } from 'node:crypto';

/** A short, stable version of a supergraph SDL (cache keys carry it). */
export const supergraphVersionOf = (sdl: string) => createHash('sha256').update(sdl).digest('hex').slice(0, 16);
