// The baseline: a bare node:http handler for GET /users and POST /users that makes the same storage
// calls as the API (the same driver calls when given the MongoDB repository), with no framework,
// validation library, metrics or logging.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { UsersRepository } from '../../apps/users-api/src/users-repository.ts';
import { DuplicateUserError } from '../../apps/users-api/src/users-repository.ts';

const PAGE = 50;

export function createRawServer(users: UsersRepository): Server {
  return createServer((req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    const fail = (error: unknown): void => {
      if (error instanceof DuplicateUserError) send(409, { title: 'Conflict' });
      else send(500, { title: 'error' });
    };
    if (req.method === 'GET' && (req.url === '/users' || req.url === '/users/')) {
      users.list({ limit: PAGE }).then((page) => {
        const last = page.users.at(-1);
        send(200, page.users, page.hasMore && last ? { link: `</users?limit=${PAGE}&after=${last._id}>; rel="next"` } : {});
      }, fail);
      return;
    }
    if (req.method === 'POST' && (req.url === '/users' || req.url === '/users/')) {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        let body: { name?: unknown; username?: unknown; email?: unknown };
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
        } catch {
          send(400, { title: 'Malformed JSON' });
          return;
        }
        if (typeof body.name !== 'string' || typeof body.username !== 'string' || typeof body.email !== 'string') {
          send(400, { title: 'invalid' });
          return;
        }
        users.create({ name: body.name, username: body.username, email: body.email }).then((user) => send(201, user, { location: `/users/${user._id}` }), fail);
      });
      return;
    }
    send(404, { title: 'Not Found' });
  });
}
