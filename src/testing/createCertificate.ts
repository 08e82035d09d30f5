import { createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/**
 * A throwaway CA and a server certificate it signed, for `127.0.0.1`, `localhost` and
 * any other `names` (DNS names, `*.` wildcards: push services a test stands in for),
 * written with node:crypto and a few lines of DER: no dependency, and P-256 keys are
 * made in microseconds (pure-JS RSA generation in `selfsigned`/node-forge takes ~1 s).
 */
export interface Certificate {
  /** PEM of the CA: give it to clients (`NODE_EXTRA_CA_CERTS`, `ca` options). */
  ca: string;
  /** PEM of the server certificate and its private key, for `https.createServer`. */
  cert: string;
  key: string;
}

export function createCertificate(days = 30, now = Date.now(), names: readonly string[] = []): Certificate {
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serverKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const notBefore = new Date(now - 60 * 60 * 1000);
  const notAfter = new Date(now + days * 24 * 60 * 60 * 1000);
  const caName = name('tidings local push service CA');

  const ca = certificate({
    issuer: caName,
    subject: caName,
    subjectKey: caKeys.publicKey,
    signer: caKeys.privateKey,
    notBefore,
    notAfter,
    extensions: [
      extension('2.5.29.19', true, seq(bool(true))), // basicConstraints: CA
      extension('2.5.29.15', true, der(0x03, Buffer.of(1, 0x06))), // keyUsage: keyCertSign, cRLSign
    ],
  });
  const cert = certificate({
    issuer: caName,
    subject: name('127.0.0.1'),
    subjectKey: serverKeys.publicKey,
    signer: caKeys.privateKey,
    notBefore,
    notAfter,
    extensions: [
      extension('2.5.29.19', true, seq()),
      extension('2.5.29.15', true, der(0x03, Buffer.of(7, 0x80))), // keyUsage: digitalSignature
      extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
      // subjectAltName: DNS localhost and the names asked for, IP 127.0.0.1
      extension('2.5.29.17', false, seq(...['localhost', ...names].map((dns) => der(0x82, Buffer.from(dns))), der(0x87, Buffer.of(127, 0, 0, 1)))),
    ],
  });
  const key = createPrivateKey(serverKeys.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  return { ca: pem('CERTIFICATE', ca), cert: pem('CERTIFICATE', cert), key: key.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

interface CertificateFields {
  issuer: Buffer;
  subject: Buffer;
  subjectKey: KeyObject;
  signer: KeyObject;
  notBefore: Date;
  notAfter: Date;
  extensions: Buffer[];
}

const ecdsaWithSha256 = () => seq(oid('1.2.840.10045.4.3.2'));

function certificate(fields: CertificateFields): Buffer {
  const serial = randomBytes(16);
  // A positive INTEGER in its shortest DER form: a first byte of 0 (then < 0x80) is a
  // non-minimal encoding, and OpenSSL then drops the CA (1 certificate in about 250).
  serial[0] = serial[0]! & 0x7f || 1;
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.of(2))), // version v3
    der(0x02, serial),
    ecdsaWithSha256(),
    fields.issuer,
    seq(time(fields.notBefore), time(fields.notAfter)),
    fields.subject,
    fields.subjectKey.export({ format: 'der', type: 'spki' }),
    der(0xa3, seq(...fields.extensions)),
  );
  // node:crypto signs EC keys as DER ECDSA-Sig-Value, which is what X.509 wants.
  const signature = sign('sha256', tbs, fields.signer);
  return seq(tbs, ecdsaWithSha256(), der(0x03, Buffer.concat([Buffer.of(0), signature])));
}

function name(commonName: string): Buffer {
  return seq(der(0x31, seq(oid('2.5.4.3'), der(0x0c, Buffer.from(commonName)))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), der(0x04, value)) : seq(oid(id), der(0x04, value));
}

function time(date: Date): Buffer {
  // UTCTime (YYMMDDHHMMSSZ) is required for dates before 2050.
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return der(0x17, Buffer.from(text));
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = arc >>> 7; value > 0; value >>>= 7) chunk.unshift((value & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

const bool = (value: boolean) => der(0x01, Buffer.of(value ? 0xff : 0));
const seq = (...items: Buffer[]) => der(0x30, Buffer.concat(items));

function der(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let head: number[];
  if (length < 0x80) head = [length];
  else if (length < 0x100) head = [0x81, length];
  else head = [0x82, length >> 8, length & 0xff];
  return Buffer.concat([Buffer.of(tag, ...head), content]);
}

function pem(label: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
