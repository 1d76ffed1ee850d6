import { parentPort, workerData } from 'node:worker_threads';
import { connectNodePostgres } from '../db/open.ts';
import { walkSegment } from './audit.verify.ts';
import type { VerifyWorkerData, FromVerifyWorker, ToVerifyWorker } from './audit.verify-workers.ts';

// A worker thread of a full verification (audit.verify-workers.ts starts it; bundled apart as
// dist/node/audit-verify-worker.mjs). It walks the pieces it is given, one at a time, on a
// connection of its own, and sends back only each page's count and the piece's result: receiving,
// decoding and hashing the rows happen here, beside the other workers, not on the main thread.
const data = workerData as VerifyWorkerData;
const port = parentPort!;
const db = connectNodePostgres(data.url, {
  max: 1,
  connectTimeoutS: data.connectTimeoutS,
  statementTimeoutMs: data.statementTimeoutMs,
});
let stopped = false;
const send = (m: FromVerifyWorker) => port.postMessage(m);

port.on('message', (m: ToVerifyWorker) => {
  if (m.type === 'stop') stopped = true;
  else if (m.type === 'close') void db.close().finally(() => port.close());
  else {
    stopped = false;
    walkSegment(
      db.sql,
      { hmacKey: data.hmacKey },
      {
        ...m.piece,
        anchored: true,
        // An earlier piece broke (the main thread said so): this one's figures are not needed.
        stopBefore: () => (stopped ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY),
        onPage: (checked) => send({ type: 'page', checked }),
      },
    ).then(
      (walked) => send({ type: 'done', walked }),
      (error: unknown) => send({ type: 'error', message: (error as Error).message }),
    );
  }
});
