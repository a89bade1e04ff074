// The HTTPS identity, made once per data dir like a PVE node's: a root CA (pve-root-ca.pem) and a
// server certificate it signs (pve-ssl.pem/.key), plus the SHA-256 fingerprint file clients can pin.
// Concurrent first starts are safe: the bundle is published with an atomic link, the loser reuses it.
import { X509Certificate } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  key: string;
  cert: string;
  caPem: string;
  caFile: string;
  certFile: string;
  fingerprint: string;
  fingerprintFile: string;
}

interface Bundle {
  caKey: string;
  caCert: string;
  key: string;
  cert: string;
}

export async function ensureTls(dataDir: string, host: string): Promise<TlsMaterial> {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const bundleFile = join(dir, 'pve-sim-tls.json');
  let bundle = existsSync(bundleFile) ? (JSON.parse(readFileSync(bundleFile, 'utf8')) as Bundle) : null;
  if (!bundle || !covers(bundle.cert, host)) {
    const fresh = await makeBundle(host, bundle);
    const tmp = `${bundleFile}.${process.pid}.${Date.now()}`;
    writeFileSync(tmp, JSON.stringify(fresh), { mode: 0o600 });
    if (bundle) {
      renameSync(tmp, bundleFile);
      bundle = fresh;
    } else {
      try {
        linkSync(tmp, bundleFile);
        bundle = fresh;
      } catch {
        bundle = JSON.parse(readFileSync(bundleFile, 'utf8')) as Bundle;
      }
      unlinkSync(tmp);
    }
  }
  const fingerprint = new X509Certificate(bundle.cert).fingerprint256;
  const files = {
    caFile: join(dir, 'pve-root-ca.pem'),
    certFile: join(dir, 'pve-ssl.pem'),
    keyFile: join(dir, 'pve-ssl.key'),
    fingerprintFile: join(dir, 'pve-ssl.fingerprint'),
  };
  writeAtomic(files.caFile, bundle.caCert);
  writeAtomic(files.certFile, bundle.cert);
  writeAtomic(files.keyFile, bundle.key, 0o600);
  writeAtomic(files.fingerprintFile, `${fingerprint}\n`);
  return {
    key: bundle.key,
    cert: bundle.cert,
    caPem: bundle.caCert,
    caFile: files.caFile,
    certFile: files.certFile,
    fingerprint,
    fingerprintFile: files.fingerprintFile,
  };
}

function covers(certPem: string, host: string): boolean {
  const cert = new X509Certificate(certPem);
  if (new Date(cert.validTo).getTime() < Date.now() + 86400_000) return false;
  if (host === '0.0.0.0' || host === '::') return true;
  return isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
}

async function makeBundle(host: string, previous: Bundle | null): Promise<Bundle> {
  const notBeforeDate = new Date(Date.now() - 86400_000);
  const years = (n: number): Date => new Date(Date.now() + n * 365 * 86400_000);
  const ca = previous
    ? { private: previous.caKey, cert: previous.caCert }
    : await generate(
        [
          { name: 'commonName', value: 'Proxmox Virtual Environment' },
          { name: 'organizationName', value: 'PVE Cluster Manager CA' },
        ],
        {
          keyType: 'ec',
          algorithm: 'sha256',
          notBeforeDate,
          notAfterDate: years(10),
          extensions: [
            { name: 'basicConstraints', cA: true, critical: true },
            { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
          ],
        },
      );
  const names = new Set(['localhost', hostname()]);
  const ips = new Set(['127.0.0.1', '::1']);
  if (host !== '0.0.0.0' && host !== '::') (isIP(host) ? ips : names).add(host);
  const server = await generate(
    [
      { name: 'commonName', value: hostname() },
      { name: 'organizationName', value: 'PVE Cluster Node' },
    ],
    {
      keyType: 'ec',
      algorithm: 'sha256',
      notBeforeDate,
      notAfterDate: years(2),
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            ...[...names].map((value) => ({ type: 2 as const, value })),
            ...[...ips].map((ip) => ({ type: 7 as const, ip })),
          ],
        },
      ],
    },
  );
  return { caKey: ca.private, caCert: ca.cert, key: server.private, cert: server.cert };
}

function writeAtomic(file: string, content: string, mode = 0o644): void {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, file);
}
