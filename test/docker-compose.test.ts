/**
 * Keeps docker-compose.yml and the Dockerfile true to the code. There is no Docker engine in
 * CI, so this is static: each service's command must name a file that exists, each variable it
 * sets must be one its config loader reads (and accepts), the ports in URLs, healthchecks and
 * the published port must agree with what the loaders parse, and the image must hold every
 * folder the commands need.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadGatewayConfig } from '../gateway/config.js';
import { routedSubgraphs } from '../gateway/server.js';
import { SUBGRAPH_NAMES, type SubgraphName } from '../subgraphs/catalog.js';
import { loadInsightsConfig } from '../subgraphs/insights/config.js';
import { loadLondonConfig } from '../subgraphs/london/config.js';
import { loadProgrammeConfig } from '../subgraphs/programme/config.js';
import { loadSouthConfig } from '../subgraphs/south/config.js';
import { TRACEPARENT_HEADER } from '../schema/telemetry.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const repoPath = (path: string) => resolve(ROOT, path);
const readRepo = (path: string) => readFileSync(repoPath(path), 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  profiles?: unknown;
  volumes?: unknown;
  deploy?: { replicas?: unknown };
  stop_grace_period?: unknown;
  command?: unknown;
  environment?: unknown;
  ports?: unknown;
  depends_on?: unknown;
  healthcheck?: { test?: unknown; interval?: unknown; timeout?: unknown; retries?: unknown; start_period?: unknown };
}

const compose = parse(readRepo('docker-compose.yml')) as {
  version?: unknown;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;
const dockerfile = readRepo('Dockerfile');

/** Where the image puts the repository (the Dockerfile's WORKDIR). */
const APP_DIR = '/app';

type Env = Record<string, string>;

/**
 * A value as compose passes it with no `.env`: `${NAME:-default}` and `${NAME-default}` become
 * their default (what an operator who sets nothing gets), a bare `${NAME}` the empty string.
 */
function interpolated(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_, _name: string, fallback?: string) => fallback ?? '');
}

/** A service's environment as the container sees it: always strings. */
function envOf(name: string): Env {
  const environment = services[name]?.environment;
  expect(environment, `${name}: environment must be a mapping`).toBeTypeOf('object');
  expect(Array.isArray(environment), `${name}: environment must be a mapping, not a list`).toBe(false);
  return Object.fromEntries(Object.entries(environment as Record<string, unknown>).map(([k, v]) => [k, interpolated(String(v))]));
}

/**
 * The file a node service runs: its command must be `node --import tsx <file>`, one process,
 * so SIGTERM from the engine reaches the program and it drains before exit.
 */
function commandFile(name: string): string {
  const command = services[name]?.command;
  expect(Array.isArray(command), `${name}: command must be an exec-form list`).toBe(true);
  const [node, flag, tsx, file, ...rest] = command as unknown[];
  expect([node, flag, tsx, rest.length], `${name}: command must be node --import tsx <file>`).toEqual(['node', '--import', 'tsx', 0]);
  expect(file).toBeTypeOf('string');
  return file as string;
}

/** The port a service's healthcheck probes on its own loopback interface, at `/health`. */
function healthcheckPort(name: string): number {
  const hc = services[name]?.healthcheck;
  expect(hc, `${name}: healthcheck`).toBeDefined();
  const test = hc?.test as unknown[];
  expect(Array.isArray(test) && test[0] === 'CMD', `${name}: healthcheck test must be exec form`).toBe(true);
  for (const key of ['interval', 'timeout', 'retries', 'start_period'] as const) {
    expect(hc?.[key], `${name}: healthcheck ${key}`).toBeDefined();
  }
  const match = /http:\/\/127\.0\.0\.1:(\d+)\/health'/.exec(test.join(' '));
  expect(match, `${name}: healthcheck must fetch http://127.0.0.1:<port>/health`).not.toBeNull();
  return Number(match?.[1]);
}

/** Code with its comments removed, so a variable named only in a doc comment does not count. */
function code(path: string): string {
  return readRepo(path)
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
}

/** How a service's config source names the variables it reads. */
interface VariableSources {
  /** Files that may spell a variable out in full, e.g. `HOST`, `GATEWAY_PORT`. */
  readonly literal: readonly string[];
  /** Prefixes the code builds names from, e.g. `SOUTH` in `${prefix}_FEED_DIR`. */
  readonly prefixes: readonly string[];
  /** The file that builds `${prefix}_<SUFFIX>` names. */
  readonly builder: string;
}

/** True when the code names `key`, in full or built from a prefix and a suffix. */
function codeNames(key: string, sources: VariableSources): boolean {
  if (sources.literal.some((file) => new RegExp(`\\b${key}\\b`).test(code(file)))) return true;
  const built = /^([A-Z0-9]+)_([A-Z0-9_]+)$/.exec(key);
  return !!built && sources.prefixes.includes(built[1]!) && code(sources.builder).includes(`}_${built[2]!}\``);
}

/** Another valid value for a variable, to show the loader reads it. */
function variant(value: string): string {
  // An optional setting left unset (`${NAME:-}`): the only one is the OpenTelemetry endpoint.
  if (value === '') return COLLECTOR_ENDPOINT;
  if (/^\d+$/.test(value)) return String(Number(value) + 1);
  if (value.includes(',')) {
    // A list: one more entry (a list of name=value pairs: one more pair).
    const last = value.slice(value.lastIndexOf(',') + 1);
    return last.includes('=') ? `${value},elsewhere=${last.slice(last.indexOf('=') + 1)}` : `${value},elsewhere`;
  }
  if (URL.canParse(value)) {
    const url = new URL(value);
    url.hostname = 'elsewhere';
    return url.href;
  }
  return `${value}-elsewhere`;
}

/** Every variable compose sets must change what `load` returns: one the code ignores fails. */
function expectEveryVariableRead(name: string, env: Env, load: (env: Env) => unknown, sources: VariableSources): void {
  const baseline = load(env);
  for (const [key, value] of Object.entries(env)) {
    expect(codeNames(key, sources), `${name}: ${key} is not named in ${[...sources.literal, sources.builder].join(', ')}`).toBe(true);
    expect(load({ ...env, [key]: variant(value) }), `${name}: ${key} is set but does not change the config`).not.toEqual(baseline);
  }
}

const KIT_CONFIG = 'subgraphs/kit/config.ts';
/** Where every service reads the `OTEL_*` settings. */
const TELEMETRY = 'schema/telemetry.ts';
/** What an operator sets `OTEL_EXPORTER_OTLP_ENDPOINT` to with `--profile tracing` (docker-compose.yml's header). */
const COLLECTOR_ENDPOINT = 'http://otel-collector:4318';

interface SubgraphSpec {
  readonly load: (env: Env) => { host: string; port: number; feedDir?: string };
  readonly prefix: string;
  readonly cluster: boolean;
}

const SUBGRAPHS: Record<SubgraphName, SubgraphSpec> = {
  programme: { load: loadProgrammeConfig, prefix: 'PROGRAMME', cluster: false },
  south: { load: loadSouthConfig, prefix: 'SOUTH', cluster: true },
  london: { load: loadLondonConfig, prefix: 'LONDON', cluster: true },
  insights: { load: loadInsightsConfig, prefix: 'INSIGHTS', cluster: false },
};

/** The port a subgraph service listens on, as its own loader parses its compose environment. */
function subgraphPort(name: SubgraphName): number {
  return SUBGRAPHS[name].load(envOf(name)).port;
}

/** Top-level repo folders a TypeScript file needs at run time, following relative imports and `new URL(…, import.meta.url)`. */
function runtimeFolders(entry: string, seen = new Set<string>()): Set<string> {
  const folders = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    folders.add(relative(ROOT, file).split(/[\\/]/)[0]!);
    if (!file.endsWith('.ts')) return;
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(/(?:from\s+|import\(\s*|new URL\(\s*)'(\.{1,2}\/[^']*)'/g)].map((m) => m[1]!);
    for (const specifier of specifiers) {
      const target = resolve(dirname(file), specifier);
      const ts = target.replace(/\.js$/, '.ts');
      if (existsSync(ts) && statSync(ts).isFile()) visit(ts);
      else if (existsSync(target)) visit(target);
    }
  };
  visit(repoPath(entry));
  return folders;
}

/** The paths the Dockerfile copies into the image, without `./` and trailing slashes. */
function dockerfileCopies(): Set<string> {
  const copied = new Set<string>();
  for (const [, args] of dockerfile.matchAll(/^COPY\s+(.+)$/gm)) {
    const parts = args!.split(/\s+/).filter((p) => !p.startsWith('--'));
    for (const source of parts.slice(0, -1)) copied.add(source.replace(/^\.\//, '').replace(/\/+$/, ''));
  }
  return copied;
}

const NODE_SERVICES = [...SUBGRAPH_NAMES, 'gateway'] as const;

/** The Dockerfile's build stages (`FROM … AS name`). */
function dockerStages(): string[] {
  return [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)\s*$/gim)].map((m) => m[1]!);
}

/** The image target a node service is built as: subgraphs as `subgraph`, the gateway as `gateway`. */
function buildTarget(name: string): string {
  const build = services[name]?.build as { context?: unknown; target?: unknown };
  expect(build?.context, `${name}: build context`).toBe('.');
  return String(build?.target);
}

/** A bind mount `./host:container[:ro]`, as host path (repository-relative) and container path. */
function mounts(name: string): { host: string; container: string }[] {
  return ((services[name]?.volumes as string[] | undefined) ?? []).map((v) => {
    const [host, container] = v.split(':');
    return { host: host!.replace(/^\.\//, ''), container: container! };
  });
}

/** The body of the first `name { ... }` block in an nginx configuration (braces balanced). */
function nginxBlock(conf: string, name: string): string {
  const start = new RegExp(`(^|[\\s;{])${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s*\\{`).exec(conf);
  expect(start, `nginx.conf: no ${name} block`).not.toBeNull();
  let depth = 1;
  let at = start!.index + start![0].length;
  const from = at;
  for (; depth > 0 && at < conf.length; at += 1) depth += conf[at] === '{' ? 1 : conf[at] === '}' ? -1 : 0;
  return conf.slice(from, at - 1);
}

/** The arguments of each `name ...;` directive directly in a block (not in its nested blocks). */
function directives(block: string, name: string): string[][] {
  let flat = '';
  let depth = 0;
  for (const char of block.replace(/#.*$/gm, '')) {
    if (char === '{') depth += 1;
    if (depth === 0) flat += char;
    if (char === '}') depth -= 1;
  }
  return flat
    .split(';')
    .map((statement) => statement.trim().split(/\s+/))
    .filter(([directive]) => directive === name)
    .map(([, ...args]) => args.map((arg) => arg.replace(/^(['"])(.*)\1$/, '$2')));
}

/** An nginx time (`60s`, `1h`, `3600`) in seconds. */
function seconds(value: string | undefined): number {
  const match = /^(\d+)(s|m|h)?$/.exec(value ?? '');
  expect(match, `an nginx time, not ${value}`).not.toBeNull();
  return Number(match![1]) * { s: 1, m: 60, h: 3600 }[(match![2] ?? 's') as 's' | 'm' | 'h'];
}

describe('docker-compose.yml', () => {
  it('uses the current compose format and defines every service', () => {
    expect(compose).not.toHaveProperty('version');
    expect(Object.keys(services).sort()).toEqual([
      'gateway',
      'insights',
      'lb',
      'london',
      'otel-collector',
      'programme',
      'redis',
      'router',
      'south',
    ]);
    expect(services.redis?.image).toMatch(/^redis:7/);
    for (const name of SUBGRAPH_NAMES) expect(buildTarget(name), name).toBe('subgraph');
    expect(buildTarget('gateway')).toBe('gateway');
    for (const name of NODE_SERVICES) expect(dockerStages(), `${name}: no such Dockerfile stage`).toContain(buildTarget(name));
  });

  it.each(NODE_SERVICES)('%s runs a file that exists with node --import tsx', (name) => {
    const file = commandFile(name);
    expect(existsSync(repoPath(file)), `${name}: ${file} does not exist`).toBe(true);
  });

  it('runs each subgraph from its own folder and the gateway from gateway/', () => {
    for (const name of SUBGRAPH_NAMES) expect(commandFile(name)).toBe(`subgraphs/${name}/main.ts`);
    expect(commandFile('gateway')).toBe('gateway/main.ts');
  });

  it.each(SUBGRAPH_NAMES)('%s: its loader reads every variable, listens on 0.0.0.0 and its healthcheck port', (name) => {
    const spec = SUBGRAPHS[name];
    const env = envOf(name);
    const config = spec.load(env);
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(healthcheckPort(name));
    expect(Object.keys(env).sort()).toEqual(
      [
        'HOST',
        `${spec.prefix}_PORT`,
        // Traced only when the operator sets it (--profile tracing).
        'OTEL_EXPORTER_OTLP_ENDPOINT',
        ...(spec.cluster ? [`${spec.prefix}_FEED_DIR`, 'REDIS_URL'] : []),
        // The programme announces its membership versions on the gateways' Redis (their feed channel).
        ...(name === 'programme' ? ['REDIS_URL'] : []),
        // Insights reads the built-in clusters' SDL and follows the registry at the gateways, over HTTP.
        ...(name === 'insights' ? ['INSIGHTS_CLUSTERS', 'INSIGHTS_REGISTRY_URL'] : []),
        // The others learn registered clusters, suppliers and trusts from the gateways' registry.
        ...(name === 'insights' ? [] : ['REGISTRY_URL']),
      ].sort(),
    );
    expectEveryVariableRead(name, env, spec.load, {
      literal: [`subgraphs/${name}/config.ts`, KIT_CONFIG, TELEMETRY],
      prefixes: code(`subgraphs/${name}/config.ts`).includes(`'${spec.prefix}'`) ? [spec.prefix] : [],
      builder: KIT_CONFIG,
    });
    expect(services[name]?.ports, `${name}: only the load balancer and the router are published`).toBeUndefined();
  });

  it.each(SUBGRAPH_NAMES.filter((n) => SUBGRAPHS[n].cluster))(
    '%s shares its snapshots through the redis service, once it is healthy',
    (name) => {
      const url = new URL(envOf(name)['REDIS_URL']!);
      expect([url.protocol, url.hostname, url.port || '6379']).toEqual(['redis:', 'redis', '6379']);
      expect((services[name]?.depends_on as Record<string, { condition?: string }>)['redis']?.condition).toBe('service_healthy');
    },
  );

  it.each(SUBGRAPH_NAMES.filter((n) => SUBGRAPHS[n].cluster))('%s reads its feed from a folder the image holds', (name) => {
    const feedDir = SUBGRAPHS[name].load(envOf(name)).feedDir!;
    expect(feedDir.startsWith(`${APP_DIR}/`), `${name}: feed dir ${feedDir} is outside ${APP_DIR}`).toBe(true);
    const local = repoPath(feedDir.slice(APP_DIR.length + 1));
    expect(existsSync(local) && statSync(local).isDirectory(), `${name}: ${local} is not a folder`).toBe(true);
  });

  it('lets insights read the built-in clusters where they listen and the registry at the gateways, once the clusters are healthy', () => {
    const config = loadInsightsConfig(envOf('insights'));
    const clusters = SUBGRAPH_NAMES.filter((n) => SUBGRAPHS[n].cluster);
    expect(config.clusters.map((c) => c.name)).toEqual(clusters);
    for (const cluster of config.clusters) {
      const url = new URL(cluster.url);
      expect(url.hostname, `insights: ${cluster.name}`).toBe(cluster.name);
      expect(Number(url.port), `insights: ${cluster.name}'s port`).toBe(subgraphPort(cluster.name as SubgraphName));
      expect((services.insights?.depends_on as Record<string, { condition?: string }>)[cluster.name]?.condition).toBe('service_healthy');
    }
    const registry = new URL(config.registryUrl!);
    expect([registry.hostname, Number(registry.port)]).toEqual(['gateway', loadGatewayConfig(envOf('gateway')).port]);
  });

  describe('gateway', () => {
    const env = envOf('gateway');
    const read = env;
    const redisUrl = env['REDIS_URL'];
    const config = loadGatewayConfig(read);

    it('listens on 0.0.0.0 on its healthcheck port, as two replicas behind the load balancer, draining on stop', () => {
      expect(config.host).toBe('0.0.0.0');
      expect(healthcheckPort('gateway')).toBe(config.port);
      expect(services.gateway?.ports, 'gateway replicas are reached through lb').toBeUndefined();
      expect(Number(services.gateway?.deploy?.replicas)).toBeGreaterThanOrEqual(2);
      expect(services.gateway?.stop_grace_period).toMatch(/^\d+s$/);
      // Behind one proxy: client IPs (for rate limits) come from X-Forwarded-For.
      expect(config.trustProxy).toBe(1);
    });

    it('routes each subgraph to its compose service and the port that service listens on', () => {
      expect(config.subgraphUrls).toEqual({
        programme: 'http://programme:4001/graphql',
        south: 'http://south:4002/graphql',
        london: 'http://london:4003/graphql',
        insights: 'http://insights:4004/graphql',
      });
      for (const name of SUBGRAPH_NAMES) {
        const url = new URL(config.subgraphUrls[name]);
        expect(Object.keys(services), `${name}: ${url.hostname} is not a compose service`).toContain(url.hostname);
        expect(Number(url.port), `${name}: URL port differs from the port ${url.hostname} listens on`).toBe(
          subgraphPort(url.hostname as SubgraphName),
        );
        expect(url.pathname).toBe('/graphql');
      }
    });

    it('reads every variable compose sets', () => {
      expectEveryVariableRead('gateway', read, loadGatewayConfig, {
        literal: ['gateway/config.ts', TELEMETRY],
        prefixes: SUBGRAPH_NAMES.map((n) => n.toUpperCase()),
        builder: 'gateway/config.ts',
      });
    });

    it('points REDIS_URL at the redis service', () => {
      expect(redisUrl).toBeDefined();
      const url = new URL(redisUrl!);
      expect(url.protocol).toBe('redis:');
      expect(url.hostname).toBe('redis');
      expect(services).toHaveProperty(url.hostname);
      expect(url.port || '6379').toBe('6379');
    });

    it("shares one registry tokens file between its replicas, on a volume the image's user can write", () => {
      // A token minted on one replica (npm run registry:token) must be known to every replica
      // the load balancer picks; the file's folder is a named volume, which starts out with the
      // ownership of the image's folder, so the image makes that folder the node user's.
      const tokensDir = resolve(APP_DIR, dirname(config.registry.tokensFile));
      const volumes = ((services.gateway?.volumes as string[] | undefined) ?? []).map((v) => v.split(':'));
      const volume = volumes.find(([, container]) => container === tokensDir)?.[0];
      expect(volume, `gateway: no volume mounted at ${tokensDir}`).toBeDefined();
      expect(volume, 'gateway: the tokens volume must be a named volume, shared by the replicas').toMatch(/^[a-z][\w-]*$/);
      expect(Object.keys(compose.volumes ?? {}), `volume ${volume} is not declared`).toContain(volume);
      const beforeUser = dockerfile.slice(0, dockerfile.search(/^USER\s+node\s*$/m));
      expect(beforeUser).toMatch(new RegExp(`^RUN .*mkdir -p ${tokensDir}.*chown node:node ${tokensDir}`, 'm'));
    });

    it('waits for every service it calls to be healthy', () => {
      const dependsOn = services.gateway?.depends_on as Record<string, { condition?: string }>;
      const others = ['redis', ...SUBGRAPH_NAMES];
      expect(Object.keys(dependsOn).sort()).toEqual(others.sort());
      for (const name of others) expect(dependsOn[name]?.condition, name).toBe('service_healthy');
    });
  });

  describe('lb (nginx)', () => {
    const nginx = readRepo('deploy/nginx.conf');
    const gatewayPort = loadGatewayConfig(envOf('gateway')).port;

    it('mounts the committed nginx.conf and publishes its port on loopback only', () => {
      expect(services.lb?.image).toMatch(/^nginx:1\.\d+/);
      expect(mounts('lb')).toEqual([{ host: 'deploy/nginx.conf', container: '/etc/nginx/nginx.conf' }]);
      const listen = Number(/^\s*listen\s+(\d+);/m.exec(nginx)?.[1]);
      const [ip, hostPort, containerPort, ...extra] = String((services.lb?.ports as unknown[])[0]).split(':');
      expect([ip, extra]).toEqual(['127.0.0.1', []]);
      expect(Number(hostPort)).toBeGreaterThan(0);
      expect(Number(containerPort)).toBe(listen);
      const probe = (services.lb?.healthcheck?.test as string[]).join(' ');
      expect(probe).toContain(`http://127.0.0.1:${listen}/health`);
    });

    it("keeps the client's X-Request-Id (else makes one), and keeps /ready and /metrics off the published port", () => {
      const map = /map \$http_x_request_id \$(\w+) \{([^}]*)\}/.exec(nginx);
      expect(map, 'a map from the client X-Request-Id').not.toBeNull();
      expect(map?.[2]).toMatch(/default \$http_x_request_id;/);
      expect(map?.[2]).toMatch(/"" \$request_id;/);
      expect(nginx).toMatch(new RegExp(`proxy_set_header X-Request-Id \\$${map?.[1]};`));
      for (const path of ['/ready', '/metrics']) expect(nginx).toMatch(new RegExp(`location = ${path} \\{\\s*return 403;`));
    });

    it('balances over every gateway replica, re-resolving them so scaling needs no restart', () => {
      const target = /set \$gateway (http:\/\/[^;]+);/.exec(nginx)?.[1];
      expect(target).toBe(`http://gateway:${gatewayPort}`);
      expect(nginx).toMatch(/proxy_pass \$gateway;/);
      // Docker's embedded DNS, re-asked every few seconds.
      expect(nginx).toMatch(/resolver 127\.0\.0\.11 valid=\d+s/);
      expect(nginx).toMatch(/proxy_set_header X-Forwarded-For/);
      expect((services.lb?.depends_on as Record<string, { condition?: string }>)['gateway']?.condition).toBe('service_healthy');
    });
    it('passes live answers through: WebSocket upgrades, and server-sent events unbuffered, as long as a stream lives', () => {
      const server = nginxBlock(nginx, 'server');
      // Headers set once for every location (a location's own proxy_set_header would drop them).
      const headers = new Map(directives(server, 'proxy_set_header').map(([name, value]) => [name!.toLowerCase(), value]));
      expect(headers.get('upgrade')).toBe('$http_upgrade');
      const connection = headers.get('connection');
      const map = new RegExp(`map \\$http_upgrade \\${connection} \\{([^}]*)\\}`).exec(nginx);
      expect(map, 'a map from Upgrade to the Connection header').not.toBeNull();
      expect(map?.[1]).toMatch(/default upgrade;/);
      // No Upgrade: an empty Connection header, so HTTP/1.1 keeps the upstream connection for SSE.
      expect(map?.[1]).toMatch(/"" "";/);
      expect(directives(server, 'proxy_http_version')).toEqual([['1.1']]);
      const lifetime = loadGatewayConfig(envOf('gateway')).streams.maxLifetimeSeconds;
      for (const path of ['/graphql', '/events']) {
        const location = nginxBlock(server, `location = ${path}`);
        expect(directives(location, 'proxy_pass'), path).toEqual([['$gateway']]);
        expect(directives(location, 'proxy_set_header'), `${path} must inherit the server's headers`).toEqual([]);
        expect(directives(location, 'proxy_buffering'), path).toEqual([['off']]);
        for (const timeout of ['proxy_read_timeout', 'proxy_send_timeout']) {
          const [value] = directives(location, timeout)[0] ?? [];
          expect(seconds(value), `${path} ${timeout}`).toBeGreaterThanOrEqual(lifetime);
        }
      }
    });
  });

  describe('router profile (Apollo Router)', () => {
    const router = services.router!;
    const routerYaml = parse(readRepo('deploy/router.yaml')) as Record<string, any>;
    /** Top-level keys of Apollo Router's YAML configuration used here (router 2.x reference). */
    const ROUTER_KEYS = [
      'supergraph',
      'homepage',
      'sandbox',
      'health_check',
      'include_subgraph_errors',
      'limits',
      'traffic_shaping',
      'override_subgraph_url',
    ];

    it('runs only with --profile router, on the committed supergraph and router.yaml', () => {
      expect(router.image).toMatch(/^ghcr\.io\/apollographql\/router:v2\.\d+\.\d+$/);
      expect(router.profiles).toEqual(['router']);
      const command = router.command as string[];
      const configPath = command[command.indexOf('--config') + 1];
      const supergraphPath = command[command.indexOf('--supergraph') + 1];
      const mounted = mounts('router');
      expect(mounted).toContainEqual({ host: 'deploy/router.yaml', container: configPath });
      expect(mounted).toContainEqual({ host: 'schema/supergraph.graphql', container: supergraphPath });
      for (const { host } of mounted) expect(existsSync(repoPath(host)), host).toBe(true);
    });

    it('uses only known configuration keys and listens on the published port', () => {
      for (const key of Object.keys(routerYaml)) expect(ROUTER_KEYS, `router.yaml: unknown key ${key}`).toContain(key);
      const listenPort = Number(String(routerYaml['supergraph'].listen).split(':').pop());
      const [ip, , containerPort] = String((router.ports as unknown[])[0]).split(':');
      expect(ip).toBe('127.0.0.1');
      expect(Number(containerPort)).toBe(listenPort);
      expect(routerYaml['supergraph'].path).toBe('/graphql');
    });

    it('routes every subgraph of the supergraph to the compose service the gateway uses', () => {
      const subgraphs = routedSubgraphs(readRepo('schema/supergraph.graphql'))
        .map((s) => s.name)
        .sort();
      const overrides = routerYaml['override_subgraph_url'] as Record<string, string>;
      expect(Object.keys(overrides).sort()).toEqual(subgraphs);
      const gatewayUrls = loadGatewayConfig(envOf('gateway')).subgraphUrls as Record<string, string>;
      for (const name of subgraphs) expect(overrides[name], name).toBe(gatewayUrls[name]);
      const dependsOn = router.depends_on as Record<string, { condition?: string }>;
      for (const name of SUBGRAPH_NAMES) expect(dependsOn[name]?.condition, name).toBe('service_healthy');
    });
  });

  describe('tracing profile (OpenTelemetry collector)', () => {
    const collector = services['otel-collector']!;
    const collectorYaml = parse(readRepo('deploy/otel-collector.yaml')) as Record<string, any>;

    it('runs only with --profile tracing, a pinned image, on the committed otel-collector.yaml', () => {
      expect(collector.image).toMatch(/^otel\/opentelemetry-collector-contrib:\d+\.\d+\.\d+$/);
      expect(collector.profiles).toEqual(['tracing']);
      const command = collector.command as string[];
      expect(mounts('otel-collector')).toEqual([
        { host: 'deploy/otel-collector.yaml', container: command[command.indexOf('--config') + 1] },
      ]);
      expect(collector.ports, 'the collector is reached inside the compose network only').toBeUndefined();
    });

    it('receives OTLP/HTTP where the services send it and has a traces pipeline from that receiver', () => {
      const endpoint = String(collectorYaml['receivers'].otlp.protocols.http.endpoint);
      expect(endpoint).toBe(`0.0.0.0:${new URL(COLLECTOR_ENDPOINT).port}`);
      expect(new URL(COLLECTOR_ENDPOINT).hostname).toBe('otel-collector');
      const pipeline = collectorYaml['service'].pipelines.traces as { receivers: string[]; processors?: string[]; exporters: string[] };
      expect(pipeline.receivers).toEqual(['otlp']);
      // The collector refuses to start on a pipeline naming a component it does not define, or with no exporter.
      expect(pipeline.exporters.length, 'the traces pipeline needs an exporter').toBeGreaterThan(0);
      for (const exporter of pipeline.exporters) expect(Object.keys(collectorYaml['exporters'])).toContain(exporter);
      for (const processor of pipeline.processors ?? []) expect(Object.keys(collectorYaml['processors'] ?? {})).toContain(processor);
    });

    it.each(NODE_SERVICES)('%s is traced only when OTEL_EXPORTER_OTLP_ENDPOINT is set, then to the collector', (name) => {
      const load = name === 'gateway' ? loadGatewayConfig : SUBGRAPHS[name].load;
      const tracingOf = (env: Env) => (load(env) as unknown as { tracing: { endpoint: string | null } }).tracing;
      const raw = (services[name]?.environment as Record<string, string>)['OTEL_EXPORTER_OTLP_ENDPOINT'];
      expect(raw).toBe('${OTEL_EXPORTER_OTLP_ENDPOINT:-}');
      expect(tracingOf(envOf(name)).endpoint).toBeNull();
      expect(tracingOf({ ...envOf(name), OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR_ENDPOINT }).endpoint).toBe(
        `${COLLECTOR_ENDPOINT}/v1/traces`,
      );
    });

    it("lets the client's traceparent through the load balancer (nginx passes request headers as they are)", () => {
      const nginx = readRepo('deploy/nginx.conf');
      expect(nginx).not.toMatch(new RegExp(`proxy_set_header\\s+${TRACEPARENT_HEADER}\\s+""`, 'i'));
      expect(nginx).not.toMatch(/proxy_pass_request_headers\s+off/);
    });
  });

  it('keeps the registry (published subgraphs, only in Redis) when redis restarts or is re-created', () => {
    // Redis's default snapshots save one change only after an hour: a publish must survive a crash.
    const command = services.redis?.command as string[] | undefined;
    expect(command?.[0]).toBe('redis-server');
    expect(command?.slice(command.indexOf('--appendonly'), command.indexOf('--appendonly') + 2)).toEqual(['--appendonly', 'yes']);
    const data = ((services.redis?.volumes as string[] | undefined) ?? []).map((v) => v.split(':')).find(([, path]) => path === '/data');
    expect(data?.[0], "redis: a named volume at /data (the image's data folder)").toMatch(/^[a-z][\w-]*$/);
    expect(Object.keys(compose.volumes ?? {})).toContain(data?.[0]);
  });

  it('checks every service is healthy: redis by ping, the rest at /health', () => {
    const redisTest = services.redis?.healthcheck?.test as unknown[];
    expect(redisTest).toEqual(['CMD', 'redis-cli', 'ping']);
    for (const name of NODE_SERVICES) expect(healthcheckPort(name)).toBeGreaterThan(0);
  });
});

describe('Dockerfile', () => {
  it('builds on Node 20 in /app and runs as the node user', () => {
    expect(dockerfile).toMatch(/^FROM\s+node:20[-.\w]*\s+AS\s+base\s*$/m);
    expect(dockerfile).toMatch(new RegExp(`^WORKDIR\\s+${APP_DIR}\\s*$`, 'm'));
    expect(dockerfile).toMatch(/^USER\s+node\s*$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  it('has a stage per service kind, each running an entry point that exists', () => {
    expect(dockerStages().sort()).toEqual(['base', 'gateway', 'subgraph']);
    for (const stage of ['gateway', 'subgraph']) {
      const section = dockerfile.split(/^FROM\s+/m).find((part) => new RegExp(`AS\\s+${stage}\\s*$`, 'm').test(part.split('\n')[0]!));
      const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(section ?? '')?.[1];
      const [, , , file] = JSON.parse(cmd ?? '[]') as string[];
      expect(existsSync(repoPath(file ?? '')), `${stage}: ${file}`).toBe(true);
    }
  });

  it('copies every top-level folder the compose commands need at run time', () => {
    const copied = dockerfileCopies();
    for (const name of NODE_SERVICES) {
      for (const folder of runtimeFolders(commandFile(name))) {
        expect(copied, `${name} needs ${folder}/ but the Dockerfile does not copy it`).toContain(folder);
      }
    }
    for (const file of ['package.json', 'package-lock.json']) expect(copied).toContain(file);
  });
});
