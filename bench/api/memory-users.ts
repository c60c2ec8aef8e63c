// An in-memory UsersRepository: lets the benchmark measure the HTTP layer alone, without any database.
import { ObjectId } from 'bson';
import type { User } from '../../apps/users-api/src/user-schema.ts';
import { DuplicateUserError } from '../../apps/users-api/src/users-repository.ts';
import type { UsersRepository } from '../../apps/users-api/src/users-repository.ts';

export function createMemoryUsersRepository(): UsersRepository {
  // Ids are generated in increasing order, so insertion order is _id order.
  const users: User[] = [];
  const byId = new Map<string, User>();
  const usernames = new Set<string>();
  const emails = new Set<string>();
  const indexAfter = (after: string | undefined): number => (after === undefined ? 0 : users.findIndex((u) => u._id > after));
  return {
    async list({ limit, after }) {
      const start = indexAfter(after);
      if (start < 0) return { users: [], hasMore: false };
      const page = users.slice(start, start + limit + 1);
      return { users: page.slice(0, limit), hasMore: page.length > limit };
    },
    async create(input) {
      if (usernames.has(input.username)) throw new DuplicateUserError('username');
      if (emails.has(input.email)) throw new DuplicateUserError('email');
      const user: User = { _id: new ObjectId().toHexString(), name: input.name, username: input.username, email: input.email };
      users.push(user);
      byId.set(user._id, user);
      usernames.add(user.username);
      emails.add(user.email);
      return { ...user };
    },
    async get(id) {
      const user = byId.get(id);
      return user ? { ...user } : null;
    },
    async update() {
      throw new Error('not used by the benchmark');
    },
    async remove() {
      throw new Error('not used by the benchmark');
    },
  };
}
