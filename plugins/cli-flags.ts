import { Command } from 'commander';
import { PRODUCT_VERSION } from './version';

/** Command-line flags of the plugin binaries (upstream has `-v`; `-t` comes with the datastore). */
export function runFlags(binaryName: string, argv: string[]): void {
  new Command(binaryName)
    .description('Calico CNI plugin: run by a container runtime with CNI_* variables and stdin')
    .version(PRODUCT_VERSION, '-v, --version', 'print the version and exit')
    .parse(argv, { from: 'user' });
}
