/**
 * Runs The Guild benchmark's four subgraphs standalone, on one server (original layout `:4200/<name>`).
 *
 *   node --import tsx test/bench/guild/main.ts [--host 127.0.0.1] [--port 4200]
 *       prints the four URLs; stops cleanly on SIGTERM/SIGINT (exit 0).
 *   node --import tsx test/bench/guild/main.ts --print-supergraph [--host H] [--port P]
 *       writes the composed supergraph (URLs for host:port) to stdout and exits; starts nothing.
 */
import { parseArgs } from 'node:util';
import { GUILD_SUBGRAPH_NAMES, composeGuildSupergraph, guildBaseUrl, guildSubgraphUrls, startGuildSubgraphs } from './subgraphs.js';

const USAGE = 'usage: node --import tsx test/bench/guild/main.ts [--host HOST] [--port PORT] [--print-supergraph]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '4200' },
      'print-supergraph': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const host = values.host;
const port = Number(values.port);
if (!/^\d+$/.test(values.port) || port > 65_535) fail(`--port must be an integer from 0 to 65535, not "${values.port}"`);

if (values['print-supergraph']) {
  process.stdout.write(composeGuildSupergraph(guildSubgraphUrls(guildBaseUrl(host, port))));
  process.stdout.write('\n');
  process.exit(0);
}

const subgraphs = await startGuildSubgraphs({ host, port });
for (const name of GUILD_SUBGRAPH_NAMES) process.stdout.write(`${name}: ${subgraphs.url(name)}\n`);

let stopping = false;
async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`${signal}: stopping the Guild benchmark subgraphs\n`);
  const timer = setTimeout(() => {
    process.stderr.write('did not stop within 10 s; exiting\n');
    process.exit(1);
  }, 10_000);
  timer.unref();
  try {
    await subgraphs.close();
    process.exit(0);
  } catch (error) {
    process.stderr.write(`error while stopping: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  }
}
process.on('SIGTERM', (signal) => void stop(signal));
process.on('SIGINT', (signal) => void stop(signal));
