import { execFileSync } from 'node:child_process';

// Tests run inside their own network namespace (see scripts/test.sh), so
// these firewall rules only affect that namespace's loopback.

/** Drops every UDP packet, and with `tcpPort` every TCP segment to or from
 *  that port: a network that lets no media through at all. */
export function blockUdp(tcpPort?: number) {
  execFileSync('nft', ['add', 'table', 'inet', 'noomtest']);
  execFileSync('nft', ['add', 'chain', 'inet', 'noomtest', 'out', '{ type filter hook output priority 0 ; }']);
  execFileSync('nft', ['add', 'rule', 'inet', 'noomtest', 'out', 'meta', 'l4proto', 'udp', 'drop']);
  if (tcpPort !== undefined) {
    for (const dir of ['dport', 'sport']) {
      execFileSync('nft', ['add', 'rule', 'inet', 'noomtest', 'out', 'tcp', dir, String(tcpPort), 'drop']);
    }
  }
}

export function unblockUdp() {
  execFileSync('nft', ['delete', 'table', 'inet', 'noomtest']);
}
