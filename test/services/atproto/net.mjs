// Runs a throwaway AT Protocol network on 127.0.0.1 for vouch's tests: a real PLC directory
// (@did-plc/server, in-memory database) and a real PDS (@atproto/pds, SQLite under DATA_DIR).
// Prints one JSON line {"plcUrl","pdsUrl","plcRotationKeyHex"} and serves until SIGTERM/SIGINT.
// Usage: node net.mjs DATA_DIR    (modules come from this folder's node_modules; see install.sh)
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const [dataDir] = process.argv.slice(2);
if (!dataDir) {
  console.error('usage: net.mjs DATA_DIR');
  process.exit(2);
}
process.on('unhandledRejection', (e) => {
  console.error(`atproto test network: ${e?.stack ?? e}`);
  process.exit(1);
});

// Both servers listen on all interfaces (port only): bind every host-less listen() to loopback.
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args.length === 0 || typeof args[0] === 'function') args.unshift(0);
  if ((typeof args[0] === 'number' || /^\d+$/.test(String(args[0]))) && typeof args[1] !== 'string') {
    args.splice(1, 0, '127.0.0.1');
  } else if (args[0] && typeof args[0] === 'object' && args[0].path == null && args[0].host == null) {
    args[0] = { ...args[0], host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const plcModule = await import('@did-plc/server');
const plc = plcModule.PlcServer ? plcModule : plcModule.default;
const pds = await import('@atproto/pds');

const plcServer = plc.PlcServer.create({ db: plc.Database.mock(), port: 0 });
const plcHttp = await plcServer.start();
const plcUrl = `http://127.0.0.1:${plcHttp.address().port}`;

const port = await freePort();
fs.mkdirSync(path.join(dataDir, 'blobs'), { recursive: true });
const plcRotationKeyHex = crypto.randomBytes(32).toString('hex');
const env = {
  devMode: true,
  hostname: 'localhost',
  port,
  dataDirectory: dataDir,
  blobstoreDiskLocation: path.join(dataDir, 'blobs'),
  didPlcUrl: plcUrl,
  serviceHandleDomains: ['.test'],
  inviteRequired: false,
  crawlers: [],
  disableSsrfProtection: true,
  rateLimitsEnabled: false,
  jwtSecret: crypto.randomBytes(16).toString('hex'),
  adminPassword: crypto.randomBytes(16).toString('hex'),
  plcRotationKeyK256PrivateKeyHex: plcRotationKeyHex,
};
const cfg = pds.envToCfg(env);
const pdsUrl = `http://127.0.0.1:${port}`;
cfg.service.publicUrl = pdsUrl; // the DID documents' #atproto_pds endpoint
const pdsServer = await pds.PDS.create(cfg, pds.envToSecrets(env));
await pdsServer.start();

const stop = async () => {
  setTimeout(() => process.exit(0), 5000).unref();
  await Promise.allSettled([pdsServer.destroy(), plcServer.destroy()]);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdout.write(`${JSON.stringify({ plcUrl, pdsUrl, plcRotationKeyHex })}\n`);
