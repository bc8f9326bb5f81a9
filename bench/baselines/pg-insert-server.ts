// The single-send intake baseline: a bare node:http handler that takes the same JSON a
// sendMessage request carries and does one equivalent parameterised INSERT with `pg`
// (durable when it answers, as Herald's is). No validation, auth, GraphQL or events: the floor
// of "HTTP request in, row committed, answer out" on this machine.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 10) });
await pool.query(`CREATE TABLE IF NOT EXISTS baseline_message (
  id uuid PRIMARY KEY, account_id text NOT NULL, "to" text NOT NULL, body text NOT NULL,
  status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      try {
        const { variables } = JSON.parse(Buffer.concat(chunks).toString()) as { variables: { input: { to: string; body: string } } };
        const id = randomUUID();
        await pool.query({
          name: 'insert-message',
          text: 'INSERT INTO baseline_message (id, account_id, "to", body, status) VALUES ($1, $2, $3, $4, $5)',
          values: [id, 'bench', variables.input.to, variables.input.body, 'QUEUED'],
        });
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
