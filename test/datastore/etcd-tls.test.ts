import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EtcdDatastore } from '../../src/datastore/etcd.js';
import { openDatastore } from '../../src/datastore/open.js';
import { UnavailableError, UsageError } from '../../src/errors.js';
import { freePorts } from '../helpers/etcd-cluster.js';
import { sleep } from './watch-collector.js';

/**
 * etcd over TLS with client certificates: a one-member etcd on 127.0.0.1 with certificates made
 * by openssl in a temp dir. The backend connects with etcdCa/etcdCert/etcdKey; without a client
 * certificate it is refused; a missing file is a usage error naming it.
 */

const dir = mkdtempSync(join(tmpdir(), 'brindle-etcd-tls-'));
let etcd: ChildProcess | null = null;
after(() => {
  if (etcd?.pid !== undefined && etcd.exitCode === null) process.kill(etcd.pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCertificates(): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=brindle-test-ca');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  for (const name of ['server', 'client']) {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', 'san.ext');
  }
}

test('etcd over TLS with a client certificate', async () => {
  makeCertificates();
  const [clientPort, peerPort] = await freePorts(2);
  const log = openSync(join(dir, 'etcd.log'), 'a');
  etcd = spawn('/usr/bin/etcd', [
    '--name', 'tls1', '--data-dir', join(dir, 'data'),
    '--listen-client-urls', `https://127.0.0.1:${clientPort}`, '--advertise-client-urls', `https://127.0.0.1:${clientPort}`,
    '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-cluster', `tls1=http://127.0.0.1:${peerPort}`,
    '--cert-file', join(dir, 'server.crt'), '--key-file', join(dir, 'server.key'),
    '--trusted-ca-file', join(dir, 'ca.crt'), '--client-cert-auth', '--logger', 'zap', '--log-level', 'warn',
  ], { stdio: ['ignore', log, log] });
  closeSync(log);

  const url = `etcd://127.0.0.1:${clientPort}`;
  const tls = { etcdCa: join(dir, 'ca.crt'), etcdCert: join(dir, 'client.crt'), etcdKey: join(dir, 'client.key') };
  const ds = await openDatastore(url, tls);
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await ds.create('/tls/k', 'secret');
        break;
      } catch (err) {
        if (!(err instanceof UnavailableError) || Date.now() > deadline) throw err;
        await sleep(100);
      }
    }
    assert.equal((await ds.get('/tls/k'))!.value, 'secret');
  } finally {
    await ds.close();
  }

  const noClientCert = await EtcdDatastore.open(url, { etcdCa: tls.etcdCa }, { retryWindowMs: 500 });
  try {
    await assert.rejects(noClientCert.get('/tls/k'), (err: Error) => {
      assert.ok(err instanceof UnavailableError);
      assert.match(err.message, new RegExp(`etcd at 127\\.0\\.0\\.1:${clientPort}`));
      process.stderr.write(`  without a client certificate: ${err.message}\n`);
      return true;
    });
  } finally {
    await noClientCert.close();
  }
  await assert.rejects(openDatastore(url, { ...tls, etcdCa: join(dir, 'missing-ca.crt') }), (err: Error) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /missing-ca\.crt/);
    return true;
  });
});
