import { describe, expect, it } from 'vitest';
import { builtInSdls } from '../../test/built-ins.js';
import { loadRegistryCheckSettings } from '../config.js';
import { publishedSdlProblem, sdlLimitProblem, subgraphNameProblem } from './sdl-limits.js';

const LIMITS = { maxBytes: 10_000, maxTypes: 3, maxFields: 5 };

describe('the SDL limits', () => {
  it('leave every built-in subgraph, the contract included, far within the defaults', () => {
    const { sdl } = loadRegistryCheckSettings({});
    for (const subgraph of builtInSdls()) {
      expect(sdlLimitProblem(subgraph.sdl, sdl), subgraph.name).toBeNull();
      expect(
        sdlLimitProblem(subgraph.sdl, { maxBytes: sdl.maxBytes / 10, maxTypes: sdl.maxTypes / 5, maxFields: sdl.maxFields / 10 }),
      ).toBeNull();
    }
  });

  it('name the limit, its setting, the limit and the measured value', () => {
    expect(sdlLimitProblem('x'.repeat(10_001), LIMITS)).toEqual({
      limit: 'bytes',
      setting: 'REGISTRY_SDL_MAX_BYTES',
      max: 10_000,
      measured: 10_001,
      message: 'The SDL has 10001 bytes; the registry takes at most 10000 (REGISTRY_SDL_MAX_BYTES)',
    });
    const types = 'type A { a: Int }\ntype B { b: Int }\nenum C { X }\nextend type Query { d: A }';
    expect(sdlLimitProblem(types, LIMITS, 'Stored subgraph "x"')?.message).toBe(
      'Stored subgraph "x" has 4 types; the registry takes at most 3 (REGISTRY_SDL_MAX_TYPES)',
    );
    const fields = 'type A { a: Int b: Int c: Int }\nenum E { X Y Z }';
    expect(sdlLimitProblem(fields, LIMITS)).toMatchObject({ setting: 'REGISTRY_SDL_MAX_FIELDS', measured: 6 });
    expect(sdlLimitProblem('type A { a: Int }', LIMITS)).toBeNull();
  });

  it('count multi-byte characters as bytes, and leave an SDL that does not parse to the checks', () => {
    // 2,501 times 4 bytes, in 7,503 characters.
    expect(sdlLimitProblem('"é"'.repeat(2501), LIMITS)).toMatchObject({ limit: 'bytes', measured: 10_004 });
    expect(sdlLimitProblem('type {', LIMITS)).toBeNull();
  });
});

describe('the limits of a published SDL', () => {
  it('count it as stored, with the contract the kit adds, so a gateway can always load what was accepted', () => {
    const own = 'extend type Query {\n  "One."\n  one: String\n}';
    const limits = { maxBytes: 100_000, maxTypes: 5, maxFields: 10_000 };
    expect(sdlLimitProblem(own, limits)).toBeNull();
    expect(publishedSdlProblem('one', own, limits)?.message).toMatch(
      /^The SDL with the contract and fields the kit adds has \d+ types; the registry takes at most 5 \(REGISTRY_SDL_MAX_TYPES\)$/,
    );
    expect(publishedSdlProblem('one', own, { ...limits, maxTypes: 300 })).toBeNull();
  });
});

describe('subgraph names', () => {
  it('are lower-case words joined by hyphens, at most 63 characters', () => {
    expect(subgraphNameProblem('nme')).toBeNull();
    expect(subgraphNameProblem('north-east')).toBeNull();
    expect(subgraphNameProblem('a'.repeat(63))).toBeNull();
    expect(subgraphNameProblem('a'.repeat(64))).toBe(
      'A subgraph name has at most 63 characters (got 64): lower-case words joined by hyphens, e.g. "nme"',
    );
    expect(subgraphNameProblem('North_East')).toBe('Subgraph name "North_East" must be lower-case words joined by hyphens, e.g. "nme"');
  });
});
