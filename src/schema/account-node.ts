// Every Relay node of Herald belongs to one account. node(id:) and the prisma plugin's own
// reloads both look a node up through its `findUnique`; that lookup is written here, once, with
// the caller's account in it, so a node type cannot be declared without it.
import type PrismaTypes from '../generated/pothos-types.js';
import { builder } from './builder.js';

/** The mark accountNode leaves in a node type's `extensions`. */
export const ACCOUNT_SCOPED = 'heraldAccountScoped';

/** The Prisma models that have an `accountId` column: the only ones that can be nodes. */
type AccountModel = {
  [Name in keyof PrismaTypes]: PrismaTypes[Name]['Where'] extends { accountId?: unknown } ? Name : never;
}[keyof PrismaTypes];

type PrismaNodeFn<Name extends AccountModel, Include, Select> = typeof builder.prismaNode<Name, [], Include, Select, 'id'>;
type NodeOptions<Name extends AccountModel, Include, Select> = Parameters<PrismaNodeFn<Name, Include, Select>>[1];

/** Omit over each member of a union (plain Omit keeps only the keys common to all of them). */
type OmitEach<T, Keys extends PropertyKey> = T extends unknown ? Omit<T, Keys> : never;

/**
 * `builder.prismaNode` for a model of one account: the id is the `id` column, and every lookup
 * by id adds `accountId` of the caller (plus `where`, e.g. `{ deletedAt: null }`), so another
 * account's id is not found. Nullable, so node(id:) answers null for such an id.
 */
export function accountNode<Name extends AccountModel, Include = unknown, Select = unknown>(
  name: Name,
  { where, ...options }: OmitEach<NodeOptions<Name, Include, Select>, 'id' | 'findUnique' | 'nullable'> & { where?: PrismaTypes[Name]['Where'] },
): ReturnType<PrismaNodeFn<Name, Include, Select>> {
  return builder.prismaNode(name, {
    ...options,
    // Lets a test check that every node type of the schema was declared here.
    extensions: { ...options.extensions, [ACCOUNT_SCOPED]: true },
    id: { field: 'id' },
    findUnique: (id: string, ctx: { auth: { accountId: string } }) => ({ ...where, id, accountId: ctx.auth.accountId }),
    nullable: true,
  } as never) as never;
}
