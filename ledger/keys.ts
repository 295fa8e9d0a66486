import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join, resolve } from 'node:path';
import { LedgerError } from './errors.js';
import { syncDir, writeNewFile } from './durable.js';

/**
 * Ed25519 keys of the ledger's accounts (node:crypto, no dependency). A ledger folder keeps them in
 * keys/: NAME.pem (the private key, PKCS#8) and NAME.pub.pem (the public key, SPKI), both written
 * with mode 0600 in a 0700 folder and never overwritten. On the chain an account's public key is the
 * raw 32-byte key in hex.
 *
 * Parsing a PEM or a DER key costs about as much as a signature, so every KeyObject is parsed once
 * per process and cached (by file path, by hex).
 */

export const KEYS_DIR = 'keys';
export const OPERATOR = 'operator';
/** Account names: also file names in keys/, hence the narrow alphabet. */
export const ACCOUNT_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A fresh key pair. Key generation is the one place rescoin uses randomness that is not seeded. */
export function generateKeyPair(): KeyPair {
  return generateKeyPairSync('ed25519');
}

// An Ed25519 SubjectPublicKeyInfo is this 12-byte DER header followed by the raw 32-byte key.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The raw 32-byte public key, hex (of a public or a private KeyObject). */
export function publicKeyHex(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = pub.export({ format: 'der', type: 'spki' });
  return der.subarray(SPKI_PREFIX.length).toString('hex');
}

const byHex = new Map<string, KeyObject>();

/** The public KeyObject of a raw hex key, parsed once per process. Throws on a malformed key. */
export function publicKeyFromHex(hex: string): KeyObject {
  let key = byHex.get(hex);
  if (!key) {
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new LedgerError(`a public key is 64 lowercase hex digits, got "${hex.slice(0, 80)}"`);
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(hex, 'hex')]), format: 'der', type: 'spki' });
    byHex.set(hex, key);
  }
  return key;
}

export function checkAccountName(name: string, field = 'name'): string {
  if (!ACCOUNT_NAME.test(name)) throw new LedgerError(`${field}: "${name}" must be 1-32 characters a-z, 0-9, _ or -, starting with a letter`, field);
  return name;
}

export function keyPaths(dir: string, name: string): { private: string; public: string } {
  checkAccountName(name);
  return { private: join(dir, KEYS_DIR, `${name}.pem`), public: join(dir, KEYS_DIR, `${name}.pub.pem`) };
}

/** Write a file that must not exist yet, mode 0600, flushed to disk before returning. */
function writeSecret(path: string, text: string): void {
  writeNewFile(path, text, 0o600);
  // The mode given to open() passes through the umask; say it again so it is 0600 whatever the umask.
  chmodSync(path, 0o600);
}

/** Save a key pair as keys/NAME.pem and keys/NAME.pub.pem (0600); refuses to overwrite either. */
export function saveKeyPair(dir: string, name: string, pair: KeyPair): { private: string; public: string } {
  const paths = keyPaths(dir, name);
  mkdirSync(join(dir, KEYS_DIR), { recursive: true, mode: 0o700 });
  for (const p of [paths.private, paths.public]) if (existsSync(p)) throw new LedgerError(`${p} exists: keys are never overwritten`);
  writeSecret(paths.private, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  writeSecret(paths.public, pair.publicKey.export({ format: 'pem', type: 'spki' }) as string);
  syncDir(join(dir, KEYS_DIR));
  return paths;
}

const privateByPath = new Map<string, KeyObject>();

/**
 * The private key of account NAME from keys/NAME.pem, parsed once per process. Refuses a key file
 * that others may read (as ssh does): a leaked key signs for its owner.
 */
export function loadPrivateKey(dir: string, name: string): KeyObject {
  const path = resolve(keyPaths(dir, name).private);
  let key = privateByPath.get(path);
  if (key) return key;
  if (!existsSync(path)) throw new LedgerError(`no key for account "${name}": ${path} does not exist`);
  if (process.platform !== 'win32') {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) throw new LedgerError(`${path} has mode 0${mode.toString(8)}: others may read the private key; chmod 600 it`);
  }
  key = createPrivateKey(readFileSync(path));
  if (key.asymmetricKeyType !== 'ed25519') throw new LedgerError(`${path} is a ${key.asymmetricKeyType} key, not ed25519`);
  privateByPath.set(path, key);
  return key;
}

/** The public key of account NAME from keys/NAME.pub.pem as raw hex, or null without that file. */
export function loadPublicKeyHex(dir: string, name: string): string | null {
  const path = keyPaths(dir, name).public;
  if (!existsSync(path)) return null;
  return publicKeyHex(createPublicKey(readFileSync(path)));
}
