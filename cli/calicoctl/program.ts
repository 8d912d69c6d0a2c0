import { readFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import type { Kv } from '../../lib/datastore/kv';
import { datastoreInit, nodeRegister, parseLabels } from './cluster';
import { openDatastore, type ConnectionFlags } from './connection';
import { getResources, type OutputFormat } from './get';
import { ipamCheck } from './ipam-check';
import { ipamConfigure, ipamRelease, parseBlockLimit, parseBooleanFlag } from './ipam-edit';
import { ipamShow } from './ipam-show';
import { CliError, type CliIo } from './io';
import { kindByName } from './kinds';
import { parseManifests } from './manifest';
import { checkName, deleteByName, writeResources, type WriteVerb } from './resource-writes';

declare const __CALICO_VERSION__: string | undefined;
const VERSION = typeof __CALICO_VERSION__ === 'string' ? __CALICO_VERSION__ : 'dev';

/**
 * Runs calicoctl with `argv` (without node and script) and returns the exit status: 0, or 1 after
 * printing `error: <message>` on stderr. Nothing here touches `process`: main.ts wires it.
 */
export async function runCalicoctl(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    // Commander has printed its own usage error (or the help / version, exit code 0).
    if (err instanceof CommanderError) return err.exitCode;
    io.err(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

function buildProgram(io: CliIo): Command {
  const program = new Command('calicoctl')
    .description('Manage Calico pools, nodes, profiles and IPAM in etcd (projectcalico.org/v3)')
    .version(VERSION, '-v, --version')
    .option(
      '--endpoints <urls>',
      'etcd endpoints, comma-separated (else ETCD_ENDPOINTS, else the config file)',
    )
    .option(
      '-c, --config <file>',
      'CalicoAPIConfig file (default /etc/calico/calicoctl.cfg when present)',
    )
    .option('--ca-cert-file <file>', 'etcd CA bundle (else ETCD_CA_CERT_FILE)')
    .option('--cert-file <file>', 'etcd client certificate (else ETCD_CERT_FILE)')
    .option('--key-file <file>', 'etcd client key (else ETCD_KEY_FILE)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => {
        io.out(s);
      },
      writeErr: (s) => {
        io.err(s);
      },
    });
  const withKv = async (command: Command, work: (kv: Kv) => Promise<void>): Promise<void> => {
    const kv = openDatastore(command.optsWithGlobals<ConnectionFlags>(), io.env);
    try {
      await work(kv);
    } finally {
      kv.close();
    }
  };
  const readManifest = async (file: string): Promise<string> => {
    if (file === '-') return io.readStdin();
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'unreadable';
      throw new CliError(`cannot read ${file}: ${code}`);
    }
  };

  for (const [verb, summary] of [
    ['create', 'create resources from a manifest; fails if one exists'],
    ['apply', 'create or replace resources from a manifest'],
    ['replace', 'replace existing resources from a manifest'],
  ] as const) {
    program
      .command(verb)
      .description(summary)
      .requiredOption('-f, --filename <file>', 'YAML or JSON manifest, - for stdin')
      .action(async (options: { filename: string }, command: Command) => {
        const resources = parseManifests(await readManifest(options.filename), options.filename);
        await withKv(command, (kv) => writeResources(kv, resources, { verb, io }));
      });
  }
  program
    .command('delete')
    .description('delete resources named in a manifest, or one resource: delete KIND NAME')
    .argument('[kind]', 'ippool, node, profile or ipreservation')
    .argument('[name]')
    .option('-f, --filename <file>', 'YAML or JSON manifest, - for stdin')
    .action(
      async (
        kind: string | undefined,
        name: string | undefined,
        options: { filename?: string },
        command: Command,
      ) => {
        const verb: WriteVerb = 'delete';
        if (options.filename !== undefined) {
          const resources = parseManifests(await readManifest(options.filename), options.filename);
          await withKv(command, (kv) => writeResources(kv, resources, { verb, io }));
          return;
        }
        if (kind === undefined || name === undefined) {
          throw new CliError('delete: give -f FILE, or a kind and a name');
        }
        const info = kindByName(kind);
        await withKv(command, (kv) =>
          deleteByName(kv, { kind: info, name, namespace: 'default', io }),
        );
      },
    );

  program
    .command('get')
    .description('print resources: ippool, node, profile, workloadendpoint, ipreservation')
    .argument('<kind>')
    .argument('[name]')
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['ps', 'wide', 'json', 'yaml'])
        .default('ps'),
    )
    .option('-n, --namespace <namespace>', 'namespace of workload endpoints', 'default')
    .option('-A, --all-namespaces', 'workload endpoints of every namespace')
    .action(
      async (
        kind: string,
        name: string | undefined,
        options: { output: OutputFormat; namespace: string; allNamespaces?: boolean },
        command: Command,
      ) => {
        const info = kindByName(kind);
        const namespace =
          info.namespaced && options.allNamespaces !== true ? options.namespace : undefined;
        await withKv(command, (kv) =>
          getResources(kv, { kind: info, name, namespace, output: options.output }, io),
        );
      },
    );

  const ipam = program.command('ipam').description('IP address management');
  ipam
    .command('show')
    .description('usage per pool (and per block with --show-blocks), or who holds --ip ADDR')
    .option('--show-blocks', 'one line per allocation block, with its node')
    .option('--ip <addr>', 'show who holds this address')
    .action(async (options: { showBlocks?: boolean; ip?: string }, command: Command) => {
      await withKv(command, (kv) =>
        ipamShow(kv, { showBlocks: options.showBlocks === true, ip: options.ip }, io),
      );
    });
  ipam
    .command('check')
    .description('check IPAM consistency; --release-leaks frees leaked addresses')
    .option('--release-leaks', 'release the leaked addresses the check found')
    .option('--dry-run', 'with --release-leaks: say what would be released, change nothing')
    .option(
      '--grace-seconds <n>',
      'addresses younger than this are ADDs in flight, not leaks',
      '900',
    )
    .option('--network <name...>', 'networks served by calico, besides those endpoints prove')
    .action(
      async (
        options: {
          releaseLeaks?: boolean;
          dryRun?: boolean;
          graceSeconds: string;
          network?: string[];
        },
        command: Command,
      ) => {
        const grace = Number(options.graceSeconds);
        if (!/^\d+$/.test(options.graceSeconds) || !Number.isSafeInteger(grace * 1000)) {
          throw new CliError(
            `--grace-seconds: must be a whole number, got ${JSON.stringify(options.graceSeconds)}`,
          );
        }
        await withKv(command, (kv) =>
          ipamCheck(
            kv,
            {
              releaseLeaks: options.releaseLeaks === true,
              dryRun: options.dryRun === true,
              graceMs: grace * 1000,
              ...(options.network === undefined ? {} : { networks: options.network }),
            },
            io,
          ),
        );
      },
    );
  ipam
    .command('release')
    .description('release addresses whoever holds them')
    .requiredOption('--ip <addr...>', 'the address(es) to release')
    .action(async (options: { ip: string[] }, command: Command) => {
      await withKv(command, (kv) => ipamRelease(kv, options.ip, io));
    });
  ipam
    .command('configure')
    .description('cluster-wide IPAM settings')
    .option('--strictaffinity <bool>', "true: never borrow from another node's block")
    .option('--max-blocks-per-host <n>', 'blocks one node may claim (0: the default, 20)')
    .action(
      async (options: { strictaffinity?: string; maxBlocksPerHost?: string }, command: Command) => {
        const change = {
          strictAffinity:
            options.strictaffinity === undefined
              ? undefined
              : parseBooleanFlag('--strictaffinity', options.strictaffinity),
          maxBlocksPerHost:
            options.maxBlocksPerHost === undefined
              ? undefined
              : parseBlockLimit(options.maxBlocksPerHost),
        };
        await withKv(command, (kv) => ipamConfigure(kv, change, io));
      },
    );

  program
    .command('datastore')
    .description('datastore set-up')
    .command('init')
    .description(
      'create ClusterInformation default with datastoreReady true (calico/node does this)',
    )
    .action(async (_options: unknown, command: Command) => {
      await withKv(command, (kv) => datastoreInit(kv, io));
    });
  program
    .command('node')
    .description('nodes')
    .command('register')
    .description('register a Node (as calico/node does at start), or add labels to it')
    .argument('<name>')
    .option('--labels <k=v,...>', 'labels for pool nodeSelectors', '')
    .action(async (name: string, options: { labels: string }, command: Command) => {
      checkName('node register NAME', name);
      const labels = parseLabels(options.labels);
      await withKv(command, (kv) => nodeRegister(kv, { name, labels }, io));
    });
  return program;
}
