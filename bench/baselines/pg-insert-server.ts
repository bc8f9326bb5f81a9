// The single-send intake baseline: a bare node:http handler that takes the same JSON a
// sendMessage request carries and does one equivalent parameterised INSERT with `pg`
// (durable when it answers, as Herald's is). No validation, auth, GraphQL or events: the floor
// of "HTTP request in, row committed, answer out" on this machine.
// With HERALD_ACCOUNT_ID set it writes what Herald writes instead: a row of Herald's own
// "Message" table (with all its indexes) and its first "MessageEvent", in one statement.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 10) });
await pool.query(`CREATE TABLE IF NOT EXISTS baseline_message (
  id uuid PRIMARY KEY, account_id text NOT NULL, "to" text NOT NULL, body text NOT NULL,
  status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);

const heraldAccountId = process.env.HERALD_ACCOUNT_ID;

/** The baseline's INSERT for one message: its own narrow table, or Herald's tables. */
function insertStatement(id: string, to: string, body: string): pg.QueryConfig {
  if (!heraldAccountId) {
    return {
      name: 'insert-message',
      text: 'INSERT INTO baseline_message (id, account_id, "to", body, status) VALUES ($1, $2, $3, $4, $5)',
      values: [id, 'bench', to, body, 'QUEUED'],
    };
  }
  return {
    name: 'insert-herald-message',
    text: `WITH m AS (
             INSERT INTO "Message" (id, "accountId", "to", body, encoding, segments, status, "dueAt", "createdAt", "updatedAt")
             VALUES ($1, $2, $3, $4, 'GSM7', 1, 'QUEUED', now(), now(), now()) RETURNING id)
           INSERT INTO "MessageEvent" ("messageId", status, source, at, applied) SELECT id, 'QUEUED', 'API', now(), true FROM m`,
    values: [id, heraldAccountId, to, body],
  };
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      try {
        const { variables } = JSON.parse(Buffer.concat(chunks).toString()) as { variables: { input: { to: string; body: string } } };
        const id = randomUUID();
        await pool.query(insertStatement(id, variables.input.to, variables.input.body));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: { sendMessage: { __typename: 'SendMessageSuccess', data: { id, status: 'QUEUED' } } } }));
      } catch (error) {
        res.writeHead(500);
        res.end(String(error));
      }
    })();
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  console.log(`baseline listening on http://127.0.0.1:${address.port}`);
});
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
