// Templates through the API: the review lifecycle, versions, sending, deletion and tenancy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, startTestHerald, type TestHerald } from '../support/herald.js';
import {
  approvedTemplate,
  CREATE_TEMPLATE,
  createDraft,
  DELETE_TEMPLATE,
  GET_TEMPLATE,
  LIST_TEMPLATES,
  mutate,
  REVIEW_TEMPLATE,
  send,
  SUBMIT_TEMPLATE,
  UPDATE_TEMPLATE,
} from '../support/templates.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

const TO = '+14155550123';

describe('template lifecycle', () => {
  it('creates a DRAFT v1 with its variables in order of first use, spaces inside braces allowed', async () => {
    const { sender } = await t.seedAccount();
    const created = await createDraft(sender, 'Hi {{name}}, order {{ order_id }} ships {{when}}. Thanks {{name}}!', 'NOTIFICATION', 'shipping');
    expect(created).toMatchObject({ name: 'shipping', category: 'NOTIFICATION', status: 'DRAFT', version: 1, variables: ['name', 'order_id', 'when'] });
    expect(created.versions).toEqual([expect.objectContaining({ version: 1, status: 'DRAFT' })]);
  });

  it('refuses an invalid variable name, an unclosed "{{" and an empty name or body with ValidationError', async () => {
    const { sender } = await t.seedAccount();
    for (const body of ['Code {{1x}}', 'Code {{code', 'Code }} here', 'Code {{ a-b }}']) {
      const result = await mutate(sender, CREATE_TEMPLATE, { input: { name: 'bad', body, category: 'OTP' } });
      expect(result, body).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
      expect(result.issues.map((i: any) => i.path.join('.'))).toContain('input.body');
    }
    const empty = await mutate(sender, CREATE_TEMPLATE, { input: { name: '  ', body: ' ', category: 'OTP' } });
    expect(empty.__typename).toBe('ValidationError');
    expect(expectNoErrors(await sender(LIST_TEMPLATES, {})).templates.edges).toEqual([]);
  });

  it('walks every transition: edit draft, submit, locked in review, reject, resubmit refused, edit to v2, approve', async () => {
    const { admin, sender } = await t.seedAccount();
    const { id } = await createDraft(sender, 'Code {{code}}', 'OTP');

    const edited = await mutate(sender, UPDATE_TEMPLATE, { id, input: { body: 'Your code is {{code}}', name: 'otp' } });
    expect(edited.data).toMatchObject({ status: 'DRAFT', version: 1, name: 'otp', body: 'Your code is {{code}}', variables: ['code'] });
    expect(edited.data.versions).toHaveLength(1);

    const submitted = await mutate(sender, SUBMIT_TEMPLATE, { id });
    expect(submitted.data).toMatchObject({ status: 'PENDING_REVIEW', version: 1 });
    expect(submitted.data.submittedAt).toBeTruthy();

    const inReview = await mutate(sender, UPDATE_TEMPLATE, { id, input: { body: 'sneaky {{code}}' } });
    expect(inReview).toMatchObject({ __typename: 'InvalidTemplateStateError', code: 'INVALID_TEMPLATE_STATE', status: 'PENDING_REVIEW' });
    expect((await mutate(sender, SUBMIT_TEMPLATE, { id })).__typename).toBe('InvalidTemplateStateError');

    const bySender = await mutate(sender, REVIEW_TEMPLATE, { id, approve: true });
    expect(bySender).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });

    for (const reason of [undefined, null, '   ']) {
      const noReason = await mutate(admin, REVIEW_TEMPLATE, { id, approve: false, reason });
      expect(noReason).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
      expect(noReason.issues[0].path).toEqual(['reason']);
    }
    expect(expectNoErrors(await sender(GET_TEMPLATE, { id })).template.status).toBe('PENDING_REVIEW');

    const rejected = await mutate(admin, REVIEW_TEMPLATE, { id, approve: false, reason: 'Say who the code is from' });
    expect(rejected.data).toMatchObject({ status: 'REJECTED', version: 1, rejectionReason: 'Say who the code is from' });
    expect(rejected.data.reviewedAt).toBeTruthy();
    expect(await mutate(admin, REVIEW_TEMPLATE, { id, approve: true })).toMatchObject({ __typename: 'InvalidTemplateStateError', status: 'REJECTED' });

    const resubmit = await mutate(sender, SUBMIT_TEMPLATE, { id });
    expect(resubmit).toMatchObject({ __typename: 'InvalidTemplateStateError', code: 'INVALID_TEMPLATE_STATE', status: 'REJECTED' });

    const v2 = await mutate(sender, UPDATE_TEMPLATE, { id, input: { body: 'Acme: your code is {{code}}' } });
    expect(v2.data).toMatchObject({ status: 'DRAFT', version: 2, body: 'Acme: your code is {{code}}', rejectionReason: null });
    expect(v2.data.versions).toEqual([
      expect.objectContaining({ version: 2, status: 'DRAFT', body: 'Acme: your code is {{code}}' }),
      expect.objectContaining({ version: 1, status: 'REJECTED', body: 'Your code is {{code}}', rejectionReason: 'Say who the code is from' }),
    ]);
    expect(await mutate(admin, REVIEW_TEMPLATE, { id, approve: true })).toMatchObject({ __typename: 'InvalidTemplateStateError', status: 'DRAFT' });

    expect((await mutate(sender, SUBMIT_TEMPLATE, { id })).data.status).toBe('PENDING_REVIEW');
    const approved = await mutate(admin, REVIEW_TEMPLATE, { id, approve: true });
    expect(approved.data).toMatchObject({ status: 'APPROVED', version: 2, rejectionReason: null });
    expect((await mutate(sender, SUBMIT_TEMPLATE, { id })).status).toBe('APPROVED');
  });

  it('refuses to send a DRAFT, PENDING_REVIEW or REJECTED template with TemplateNotApprovedError', async () => {
    const { admin, sender } = await t.seedAccount();
    const { id } = await createDraft(sender, 'Hello {{name}}');
    const attempt = () => send(sender, { to: TO, templateId: id, variables: { name: 'Ann' } });

    expect(await attempt()).toMatchObject({ __typename: 'TemplateNotApprovedError', code: 'TEMPLATE_NOT_APPROVED', status: 'DRAFT' });
    await mutate(sender, SUBMIT_TEMPLATE, { id });
    expect(await attempt()).toMatchObject({ code: 'TEMPLATE_NOT_APPROVED', status: 'PENDING_REVIEW' });
    await mutate(admin, REVIEW_TEMPLATE, { id, approve: false, reason: 'no' });
    expect(await attempt()).toMatchObject({ code: 'TEMPLATE_NOT_APPROVED', status: 'REJECTED' });
    expect(expectNoErrors(await sender(`{ messages { edges { node { id } } } }`)).messages.edges).toEqual([]);
  });

  it('sends an APPROVED template: renders the body and records the template and version', async () => {
    const account = await t.seedAccount();
    const id = await approvedTemplate(account, 'Hi {{name}}, your order {{order}} has shipped.');
    const sent = await send(account.sender, { to: TO, templateId: id, variables: { name: 'Ann', order: 42 } });
    expect(sent.__typename).toBe('SendMessageSuccess');
    expect(sent.data).toMatchObject({
      body: 'Hi Ann, your order 42 has shipped.',
      category: 'NOTIFICATION',
      variables: { name: 'Ann', order: 42 },
      template: { id },
      templateVersion: { version: 1, status: 'APPROVED', body: 'Hi {{name}}, your order {{order}} has shipped.' },
    });
  });

  it('answers NotFoundError for a malformed, unknown or non-template templateId', async () => {
    const { sender } = await t.seedAccount();
    const messageId = (await send(sender, { to: TO, body: 'plain' })).data.id;
    for (const templateId of ['nope', Buffer.from('Template:nope').toString('base64'), '00000000-0000-0000-0000-000000000000', messageId]) {
      expect(await send(sender, { to: TO, templateId, variables: { x: 1 } }), templateId).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
  });

  it('names missing and unknown variables in TemplateVariablesMismatchError', async () => {
    const account = await t.seedAccount();
    const id = await approvedTemplate(account, '{{greeting}} {{name}}, code {{code}}');
    const mismatch = await send(account.sender, { to: TO, templateId: id, variables: { name: 'Ann', cdoe: '1' } });
    expect(mismatch).toMatchObject({ __typename: 'TemplateVariablesMismatchError', code: 'TEMPLATE_VARIABLES_MISMATCH', missing: ['greeting', 'code'], unknown: ['cdoe'] });
    expect(mismatch.message).toContain('greeting');
    expect(mismatch.message).toContain('cdoe');
    const none = await send(account.sender, { to: TO, templateId: id });
    expect(none).toMatchObject({ code: 'TEMPLATE_VARIABLES_MISMATCH', missing: ['greeting', 'name', 'code'], unknown: [] });
    const nulls = await send(account.sender, { to: TO, templateId: id, variables: { greeting: 'Hi', name: null, code: '1' } });
    expect(nulls).toMatchObject({ missing: ['name'], unknown: [] });
    const bodyAndTemplate = await send(account.sender, { to: TO, templateId: id, body: 'x', variables: { greeting: 'Hi', name: 'A', code: '1' } });
    expect(bodyAndTemplate.__typename).toBe('ValidationError');
    const blank = await approvedTemplate(account, '{{text}}');
    for (const text of ['', '   ']) {
      expect(await send(account.sender, { to: TO, templateId: blank, variables: { text } })).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'variables'] }] });
    }
    expect(expectNoErrors(await account.sender(`{ messages { edges { node { id } } } }`)).messages.edges).toEqual([]);
    const badValue = await send(account.sender, { to: TO, templateId: id, variables: { greeting: 'Hi', name: { first: 'A' }, code: '1' } });
    expect(badValue).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'variables', 'name'] }] });
  });

  it('editing an APPROVED template makes a DRAFT v2 that cannot be sent; earlier messages keep v1', async () => {
    const account = await t.seedAccount();
    const id = await approvedTemplate(account, 'Hello {{name}}');
    const first = await send(account.sender, { to: TO, templateId: id, variables: { name: 'Ann' } });

    const v2 = await mutate(account.sender, UPDATE_TEMPLATE, { id, input: { body: 'Goodbye {{name}} and {{other}}' } });
    expect(v2.data).toMatchObject({ status: 'DRAFT', version: 2, variables: ['name', 'other'] });
    expect(v2.data.versions.map((v: any) => [v.version, v.status])).toEqual([
      [2, 'DRAFT'],
      [1, 'APPROVED'],
    ]);
    expect(await send(account.sender, { to: TO, templateId: id, variables: { name: 'Bo' } })).toMatchObject({ code: 'TEMPLATE_NOT_APPROVED', status: 'DRAFT' });

    const old = expectNoErrors(await account.sender(`query($id: ID!) { message(id: $id) { body templateVersion { version body } template { version body } } }`, { id: first.data.id }));
    expect(old.message).toEqual({ body: 'Hello Ann', templateVersion: { version: 1, body: 'Hello {{name}}' }, template: { version: 2, body: 'Goodbye {{name}} and {{other}}' } });

    await mutate(account.sender, SUBMIT_TEMPLATE, { id });
    await mutate(account.admin, REVIEW_TEMPLATE, { id, approve: true });
    const again = await send(account.sender, { to: TO, templateId: id, variables: { name: 'Bo', other: 'Cy' } });
    expect(again.data).toMatchObject({ body: 'Goodbye Bo and Cy', templateVersion: { version: 2 } });

    // Renaming an approved template changes no content: no new version, still sendable.
    const renamed = await mutate(account.sender, UPDATE_TEMPLATE, { id, input: { name: 'farewell' } });
    expect(renamed.data).toMatchObject({ name: 'farewell', status: 'APPROVED', version: 2 });
  });

  it('deleteTemplate hides it and stops sends; earlier messages still resolve their template', async () => {
    const account = await t.seedAccount();
    const id = await approvedTemplate(account, 'Hello {{name}}');
    const keep = await approvedTemplate(account, 'Other {{x}}');
    const sent = await send(account.sender, { to: TO, templateId: id, variables: { name: 'Ann' } });

    const deleted = await mutate(account.sender, DELETE_TEMPLATE, { id });
    expect(deleted.__typename).toBe('DeleteTemplateSuccess');
    expect(deleted.data.deletedAt).toBeTruthy();

    expect(expectNoErrors(await account.sender(GET_TEMPLATE, { id })).template).toBeNull();
    expect(expectNoErrors(await account.sender(`query($id: ID!) { node(id: $id) { id } }`, { id })).node).toBeNull();
    const listed = expectNoErrors(await account.sender(LIST_TEMPLATES, {})).templates.edges.map((e: any) => e.node.id);
    expect(listed).toEqual([keep]);
    expect(await send(account.sender, { to: TO, templateId: id, variables: { name: 'Bo' } })).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    for (const [doc, vars] of [
      [DELETE_TEMPLATE, { id }],
      [SUBMIT_TEMPLATE, { id }],
      [UPDATE_TEMPLATE, { id, input: { body: 'x' } }],
      [REVIEW_TEMPLATE, { id, approve: true }],
    ] as const) {
      expect(await mutate(account.admin, doc, vars)).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }

    const old = expectNoErrors(await account.sender(`query($id: ID!) { message(id: $id) { body template { id deletedAt } templateVersion { version body } } }`, { id: sent.data.id }));
    expect(old.message).toMatchObject({ body: 'Hello Ann', template: { id }, templateVersion: { version: 1, body: 'Hello {{name}}' } });
    expect(old.message.template.deletedAt).toBeTruthy();
  });

  it('refuses a duplicate name on create and rename, and frees the name once deleted', async () => {
    const { sender } = await t.seedAccount();
    const a = await createDraft(sender, 'A', 'NOTIFICATION', 'welcome');
    const b = await createDraft(sender, 'B', 'NOTIFICATION', 'other');
    const dup = await mutate(sender, CREATE_TEMPLATE, { input: { name: 'welcome', body: 'C', category: 'MARKETING' } });
    expect(dup).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'name'] }] });
    expect(await mutate(sender, CREATE_TEMPLATE, { input: { name: '  welcome ', body: 'C', category: 'MARKETING' } })).toMatchObject({ __typename: 'ValidationError' });
    expect(await mutate(sender, UPDATE_TEMPLATE, { id: b.id, input: { name: 'welcome' } })).toMatchObject({
      __typename: 'ValidationError',
      issues: [{ path: ['input', 'name'] }],
    });
    expect((await mutate(sender, UPDATE_TEMPLATE, { id: a.id, input: { name: 'welcome' } })).__typename).toBe('UpdateTemplateSuccess');

    await mutate(sender, DELETE_TEMPLATE, { id: a.id });
    expect((await createDraft(sender, 'again', 'NOTIFICATION', 'welcome')).name).toBe('welcome');
  });

  it('gives the same name to exactly one of two concurrent creates', async () => {
    const { sender } = await t.seedAccount();
    const results = await Promise.all(
      Array.from({ length: 4 }, () => mutate(sender, CREATE_TEMPLATE, { input: { name: 'race', body: 'x', category: 'OTP' } })),
    );
    expect(results.map((r) => r.__typename).sort()).toEqual(['CreateTemplateSuccess', 'ValidationError', 'ValidationError', 'ValidationError']);
  });

  it('serialises concurrent edits of an APPROVED template: one new DRAFT version, edited in place by the others', async () => {
    const account = await t.seedAccount();
    const id = await approvedTemplate(account, 'Hi {{x}}');
    const results = await Promise.all([1, 2, 3].map((i) => mutate(account.sender, UPDATE_TEMPLATE, { id, input: { body: `v${i} {{x}}` } })));
    expect(results.map((r) => [r.__typename, r.data?.version])).toEqual(Array(3).fill(['UpdateTemplateSuccess', 2]));
    const versions = expectNoErrors(await account.sender(GET_TEMPLATE, { id })).template.versions;
    expect(versions.map((v: any) => [v.version, v.status])).toEqual([
      [2, 'DRAFT'],
      [1, 'APPROVED'],
    ]);
  });

  it('lists the review queue with templates(status: PENDING_REVIEW)', async () => {
    const account = await t.seedAccount();
    const draft = await createDraft(account.sender, 'draft');
    const pending1 = await createDraft(account.sender, 'p1');
    const pending2 = await createDraft(account.sender, 'p2');
    const approved = await approvedTemplate(account, 'ok');
    await mutate(account.sender, SUBMIT_TEMPLATE, { id: pending1.id });
    await mutate(account.sender, SUBMIT_TEMPLATE, { id: pending2.id });

    const ids = async (status?: string) =>
      expectNoErrors(await account.admin(LIST_TEMPLATES, { status })).templates.edges.map((e: any) => e.node.id);
    expect(await ids('PENDING_REVIEW')).toEqual([pending2.id, pending1.id]);
    expect(await ids('DRAFT')).toEqual([draft.id]);
    expect(await ids('APPROVED')).toEqual([approved]);
    expect(await ids()).toEqual([approved, pending2.id, pending1.id, draft.id]);

    await mutate(account.admin, REVIEW_TEMPLATE, { id: pending1.id, approve: false, reason: 'nope' });
    expect(await ids('PENDING_REVIEW')).toEqual([pending2.id]);
    expect(await ids('REJECTED')).toEqual([pending1.id]);
  });
});

describe('template tenancy', () => {
  it("another account can neither see, change, submit, review, delete nor send an account's template", async () => {
    const owner = await t.seedAccount();
    const other = await t.seedAccount();
    const { id } = await createDraft(owner.sender, 'Mine {{x}}');
    const approvedId = await approvedTemplate(owner, 'Approved {{x}}');

    expect(expectNoErrors(await other.admin(GET_TEMPLATE, { id })).template).toBeNull();
    expect(expectNoErrors(await other.admin(`query($id: ID!) { node(id: $id) { id } }`, { id })).node).toBeNull();
    expect(expectNoErrors(await other.admin(LIST_TEMPLATES, {})).templates.edges).toEqual([]);

    expect(await mutate(other.admin, UPDATE_TEMPLATE, { id, input: { body: 'Theirs' } })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await mutate(other.admin, SUBMIT_TEMPLATE, { id })).toMatchObject({ code: 'NOT_FOUND' });
    await mutate(owner.sender, SUBMIT_TEMPLATE, { id });
    expect(await mutate(other.admin, REVIEW_TEMPLATE, { id, approve: true })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await mutate(other.admin, DELETE_TEMPLATE, { id: approvedId })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await send(other.sender, { to: TO, templateId: approvedId, variables: { x: '1' } })).toMatchObject({ code: 'NOT_FOUND' });

    const mine = expectNoErrors(await owner.sender(GET_TEMPLATE, { id })).template;
    expect(mine).toMatchObject({ body: 'Mine {{x}}', status: 'PENDING_REVIEW', deletedAt: null });
    expect(expectNoErrors(await owner.sender(GET_TEMPLATE, { id: approvedId })).template.status).toBe('APPROVED');
    // The same name is free in another account.
    expect((await createDraft(other.sender, 'x', 'OTP', mine.name)).name).toBe(mine.name);
  });
});
