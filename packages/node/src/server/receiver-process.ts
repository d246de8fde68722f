/**
 * Test fixture (not exported), run as a child process by
 * receiver-crash.test.ts: 吴江's receiving side — LevelDB store, intake and
 * FederationService over mutual TLS on 127.0.0.1 — until it is killed.
 * Its effect appends each applied message id to an ordered log in the store,
 * in the same batch as the receipt, so a double effect or a lost one is
 * visible afterwards.
 *
 * argv: <data directory> <pki json file>; prints `listening <port>`.
 */
import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { TrustStore, serverCredentials, startGrpcServer } from "@tongban/sdk";
import { FederationService } from "@tongban/sdk/gen";
import { Intake } from "../inbox/intake.js";
import { receiptSignerFor, verifierFor } from "../inbox/sdk-adapters.js";
import { GroupCommitter } from "../store/group-committer.js";
import { storeKeys } from "../store/keys.js";
import { openLevelStore } from "../store/level-store.js";
import { federationService } from "./federation-service.js";

interface Pki {
  root: string;
  nodeId: string;
  tlsCert: string;
  tlsKey: string;
  signingKey: string;
  signingKid: string;
  partnerSigningCerts: string[];
}

const [dataDir, pkiFile] = process.argv.slice(-2) as [string, string];
const pki = JSON.parse(readFileSync(pkiFile, "utf8")) as Pki;
const trust = new TrustStore({ anchor: pki.root });
for (const c of pki.partnerSigningCerts) trust.addCertificate(c);
const identity = { nodeId: pki.nodeId, signer: { kid: pki.signingKid, privateKey: createPrivateKey(pki.signingKey), algorithm: "ES256" as const }, decryptionKey: createPrivateKey(pki.tlsKey) };

const store = await openLevelStore(dataDir);
const committer = new GroupCommitter(store);
// Each applied message id goes into an ordered log under a position taken
// from a counter in this process (initialised from the log after a restart):
// effects of different cases run concurrently, so the position must not come
// from a read-modify-write of the store.
let next = 0;
for await (const e of store.iterate({ ...storeKeys.event.range(), reverse: true, limit: 1 })) next = storeKeys.event.decode(e.key)[0] + 1;
const intake = new Intake({
  store,
  committer,
  verify: verifierFor(identity, trust),
  signReceipt: receiptSignerFor(identity),
  apply: (m) => [{ type: "put", key: storeKeys.event.key(next++), value: new TextEncoder().encode(m.header.messageId) }],
});
await intake.recover();
const server = await startGrpcServer({
  credentials: serverCredentials({ ca: pki.root, cert: pki.tlsCert, key: pki.tlsKey, requireClientCert: true }),
  services: [[FederationService, federationService({ nodeId: pki.nodeId, intake, trust })]],
});
process.stdout.write(`listening ${server.port}\n`);
process.on("SIGTERM", () => {
  void server
    .shutdown(200)
    .then(() => committer.close())
    .then(() => store.close())
    .then(() => process.exit(0));
});
