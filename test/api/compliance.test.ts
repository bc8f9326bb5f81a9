// Sensitive-content screening through the API: the built-in lists, evasions, templates and their
// variables, per-account BLOCK/ALLOW rules, and previewMessage.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoErrors, startTestHerald, type GraphQLCaller, type TestHerald } from '../support/herald.js';
import { approvedTemplate, createDraft, GET_TEMPLATE, messageCount, mutate, send, SUBMIT_TEMPLATE } from '../support/templates.js';

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(() => t?.stop());

const TO = '+14155550123';

const ADD_RULE = /* GraphQL */ `
  mutation Add($word: String!, $kind: SensitiveRuleKind!) {
    addSensitiveWordRule(word: $word, kind: $kind) {
      __typename
      ... on AddSensitiveWordRuleSuccess { data { word kind createdAt } }
      ... on Error { code message }
      ... on ValidationError { issues { path message } }
    }
  }
`;
const REMOVE_RULE = /* GraphQL */ `
  mutation Remove($word: String!, $kind: SensitiveRuleKind!) {
    removeSensitiveWordRule(word: $word, kind: $kind) { __typename ... on RemoveSensitiveWordRuleSuccess { data } ... on Error { code message } }
  }
`;
const RULES = `{ sensitiveWordRules { word kind } }`;
const PREVIEW = /* GraphQL */ `
  query Preview($input: PreviewInput!) {
    previewMessage(input: $input) { body encoding segments characters nonGsmCharacters sensitiveWords warnings }
  }
`;

async function preview(caller: GraphQLCaller, input: Record<string, unknown>) {
  return expectNoErrors(await caller(PREVIEW, { input })).previewMessage;
}

describe('sensitive content on send', () => {
  it('refuses a body with a word from the built-in English or Chinese list, naming it, and stores nothing', async () => {
    const { sender } = await t.seedAccount();
    expect(await send(sender, { to: TO, body: 'Cheap viagra, today only' })).toMatchObject({
      __typename: 'SensitiveContentError',
      code: 'SENSITIVE_CONTENT',
      words: ['viagra'],
    });
    // Overlapping listed terms are each named.
    expect(await send(sender, { to: TO, body: '欢迎加入网络赌博平台' })).toMatchObject({ code: 'SENSITIVE_CONTENT', words: ['网络赌博', '赌博'] });
    const both = await send(sender, { to: TO, body: 'Try our online casino! 赌博 and viagra' });
    expect(both.words).toEqual(['online casino', '赌博', 'viagra']);
    expect(both.message).toContain('online casino');
    expect(await messageCount(sender)).toBe(0);
  });

  it('sees through case, full-width forms, separators between letters and Traditional characters', async () => {
    const { sender } = await t.seedAccount();
    const evasions: [string, string][] = [
      ['Buy ViAgRa now', 'viagra'],
      ['Buy ＶＩＡＧＲＡ now', 'viagra'],
      ['Buy v-i-a-g-r-a now', 'viagra'],
      ['Buy v i a g r a now', 'viagra'],
      ['Buy v.i.a.g.r.a now', 'viagra'],
      ['Join our ONLINE   CASINO', 'online casino'],
      ['来玩赌 博', '赌博'],
      ['来玩赌-博', '赌博'],
      ['来玩賭博', '赌博'],
      ['来玩赌，博', '赌博'],
    ];
    for (const [body, word] of evasions) {
      expect(await send(sender, { to: TO, body }), body).toMatchObject({ code: 'SENSITIVE_CONTENT', words: [word] });
    }
    // Whole words only: nothing listed is inside these.
    for (const body of ['Your classic casino night tickets', 'Book a class at 6pm', '下载发票']) {
      expect((await send(sender, { to: TO, body })).__typename, body).toBe('SendMessageSuccess');
    }
  });

  it('refuses to submit a template with a sensitive body; it stays a DRAFT', async () => {
    const { sender } = await t.seedAccount();
    const { id } = await createDraft(sender, 'Hi {{name}}, play at our online casino');
    expect(await mutate(sender, SUBMIT_TEMPLATE, { id })).toMatchObject({
      __typename: 'SensitiveContentError',
      code: 'SENSITIVE_CONTENT',
      words: ['online casino'],
    });
    expect(expectNoErrors(await sender(GET_TEMPLATE, { id })).template).toMatchObject({ status: 'DRAFT', submittedAt: null });
  });

  it('refuses a send whose variables inject a sensitive word into an approved template', async () => {
    const account = await t.seedAccount();
    const id = await approvedTemplate(account, 'Hello {{name}}, your order {{item}} has shipped');
    expect(await send(account.sender, { to: TO, templateId: id, variables: { name: 'Ann', item: 'V I A G R A' } })).toMatchObject({
      code: 'SENSITIVE_CONTENT',
      words: ['viagra'],
    });
    // A word split over two variables is still caught: the rendered body is screened.
    const split = await approvedTemplate(account, '{{a}}{{b}} tonight');
    expect(await send(account.sender, { to: TO, templateId: split, variables: { a: '赌', b: '博' } })).toMatchObject({ code: 'SENSITIVE_CONTENT', words: ['赌博'] });
    expect(await messageCount(account.sender)).toBe(0);
    expect((await send(account.sender, { to: TO, templateId: split, variables: { a: 'Poker', b: ' night' } })).data.body).toBe('Poker night tonight');
  });
});

describe('per-account sensitive-word rules', () => {
  it('lets only an ADMIN add or remove rules, and validates the word', async () => {
    const { admin, sender } = await t.seedAccount();
    expect(await mutate(sender, ADD_RULE, { word: 'acme', kind: 'BLOCK' })).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    expect(await mutate(sender, REMOVE_RULE, { word: 'acme', kind: 'BLOCK' })).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    for (const word of ['', '   ', '!!!', 'x'.repeat(101)]) {
      expect(await mutate(admin, ADD_RULE, { word, kind: 'BLOCK' }), word).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['word'] }] });
    }
    expect(expectNoErrors(await admin(RULES)).sensitiveWordRules).toEqual([]);
    // A client may select only __typename.
    const bare = await admin(`mutation { addSensitiveWordRule(word: "Initech", kind: BLOCK) { __typename } }`);
    expect(expectNoErrors(bare).addSensitiveWordRule).toEqual({ __typename: 'AddSensitiveWordRuleSuccess' });
    expect(expectNoErrors(await admin(RULES)).sensitiveWordRules).toEqual([{ word: 'Initech', kind: 'BLOCK' }]);
    expect(await mutate(admin, REMOVE_RULE, { word: 'never-added', kind: 'ALLOW' })).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
  });

  it('a BLOCK rule refuses a new word (evasions too), on send and on submit, until it is removed', async () => {
    const { admin, sender } = await t.seedAccount();
    expect((await send(sender, { to: TO, body: 'Meet Globex today' })).__typename).toBe('SendMessageSuccess');

    const added = await mutate(admin, ADD_RULE, { word: ' Globex ', kind: 'BLOCK' });
    expect(added.data).toMatchObject({ word: 'Globex', kind: 'BLOCK' });
    // Idempotent, in any spelling that screens the same: adding it again keeps the one rule.
    for (const word of ['Globex', 'globex', 'ＧＬＯＢＥＸ']) {
      expect((await mutate(admin, ADD_RULE, { word, kind: 'BLOCK' })).data, word).toMatchObject({ word: 'Globex', kind: 'BLOCK' });
    }
    expect(expectNoErrors(await sender(RULES)).sensitiveWordRules).toEqual([{ word: 'Globex', kind: 'BLOCK' }]);

    for (const body of ['Meet Globex today', 'Meet GLOBEX today', 'Meet g.l.o.b.e.x today', 'Meet ｇｌｏｂｅｘ today']) {
      expect(await send(sender, { to: TO, body }), body).toMatchObject({ code: 'SENSITIVE_CONTENT', words: ['Globex'] });
    }
    const draft = await createDraft(sender, 'Globex says hi to {{name}}');
    expect(await mutate(sender, SUBMIT_TEMPLATE, { id: draft.id })).toMatchObject({ code: 'SENSITIVE_CONTENT', words: ['Globex'] });

    expect(await mutate(admin, REMOVE_RULE, { word: 'Globex', kind: 'ALLOW' })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await mutate(admin, REMOVE_RULE, { word: ' GLOBEX ', kind: 'BLOCK' })).toEqual({ __typename: 'RemoveSensitiveWordRuleSuccess', data: 'Globex' });
    expect(expectNoErrors(await sender(RULES)).sensitiveWordRules).toEqual([]);
    expect((await send(sender, { to: TO, body: 'Meet Globex today' })).__typename).toBe('SendMessageSuccess');
    expect((await mutate(sender, SUBMIT_TEMPLATE, { id: draft.id })).__typename).toBe('SubmitTemplateSuccess');
  });

  it('stays idempotent when the same rule is added concurrently', async () => {
    const { admin } = await t.seedAccount();
    const results = await Promise.all(Array.from({ length: 4 }, () => mutate(admin, ADD_RULE, { word: 'Globex', kind: 'BLOCK' })));
    expect(results.map((r) => r.__typename)).toEqual(Array(4).fill('AddSensitiveWordRuleSuccess'));
    expect(expectNoErrors(await admin(RULES)).sensitiveWordRules).toEqual([{ word: 'Globex', kind: 'BLOCK' }]);
  });

  it('an ALLOW rule exempts a built-in word for that account only', async () => {
    const casino = await t.seedAccount();
    const other = await t.seedAccount();
    const body = 'Your online casino table is ready';

    await mutate(casino.admin, ADD_RULE, { word: 'Online Casino', kind: 'ALLOW' });
    await mutate(other.admin, ADD_RULE, { word: 'Globex', kind: 'BLOCK' });

    expect((await send(casino.sender, { to: TO, body })).__typename).toBe('SendMessageSuccess');
    expect((await send(casino.sender, { to: TO, body: 'Globex is fine here' })).__typename).toBe('SendMessageSuccess');
    // Other built-in words stay refused for the exempted account.
    expect(await send(casino.sender, { to: TO, body: 'online casino and viagra' })).toMatchObject({ words: ['viagra'] });
    expect(await send(other.sender, { to: TO, body })).toMatchObject({ code: 'SENSITIVE_CONTENT', words: ['online casino'] });
    expect(await send(other.sender, { to: TO, body: 'Globex is fine here' })).toMatchObject({ code: 'SENSITIVE_CONTENT', words: ['Globex'] });

    expect(expectNoErrors(await casino.admin(RULES)).sensitiveWordRules).toEqual([{ word: 'Online Casino', kind: 'ALLOW' }]);
    expect(await mutate(other.admin, REMOVE_RULE, { word: 'Online Casino', kind: 'ALLOW' })).toMatchObject({ code: 'NOT_FOUND' });

    expect(await mutate(casino.admin, REMOVE_RULE, { word: 'Online Casino', kind: 'ALLOW' })).toMatchObject({ data: 'Online Casino' });
    expect(await send(casino.sender, { to: TO, body })).toMatchObject({ code: 'SENSITIVE_CONTENT', words: ['online casino'] });
  });
});

describe('previewMessage', () => {
  it('refuses a body over the length limit at once with VALIDATION_FAILED instead of analysing it (40 000 CJK characters took a minute)', async () => {
    const { sender } = await t.seedAccount();
    const response = await sender(PREVIEW, { input: { body: '漢'.repeat(40_000) } });
    expect(response.errors?.[0]).toMatchObject({ extensions: { code: 'VALIDATION_FAILED' } });
    expect(response.errors?.[0]?.message).toMatch(/40000 characters, over the \d+-character limit/);
  });

  it('shows sensitive words with a warning, and nothing is sent', async () => {
    const { sender } = await t.seedAccount();
    const p = await preview(sender, { body: 'Win at our ONLINE CASINO — 赌博' });
    expect(p.sensitiveWords).toEqual(['online casino', '赌博']);
    expect(p.warnings.some((w: string) => w.includes('online casino') && w.includes('赌博') && w.includes('refused'))).toBe(true);
    expect(p).toMatchObject({ encoding: 'UCS2', segments: 1 });
    expect(await messageCount(sender)).toBe(0);

    const clean = await preview(sender, { body: 'Your parcel is on its way' });
    expect(clean).toMatchObject({ sensitiveWords: [], warnings: [], encoding: 'GSM7', segments: 1, characters: 25 });
  });

  it('applies the account rules', async () => {
    const { admin, sender } = await t.seedAccount();
    await mutate(admin, ADD_RULE, { word: 'viagra', kind: 'ALLOW' });
    await mutate(admin, ADD_RULE, { word: 'Globex', kind: 'BLOCK' });
    expect((await preview(sender, { body: 'viagra from Globex' })).sensitiveWords).toEqual(['Globex']);
  });

  it('renders a template with its variables, and warns about status, variables and injected words', async () => {
    const account = await t.seedAccount();
    const id = await approvedTemplate(account, 'Hi {{name}}, your code is {{code}}', 'OTP');
    const rendered = await preview(account.sender, { templateId: id, variables: { name: 'Ann', code: 123456 } });
    expect(rendered).toMatchObject({ body: 'Hi Ann, your code is 123456', sensitiveWords: [], warnings: [], encoding: 'GSM7' });

    const mismatch = await preview(account.sender, { templateId: id, variables: { name: 'Ann', cdoe: 1 } });
    expect(mismatch.body).toBe('Hi {{name}}, your code is {{code}}');
    expect(mismatch.warnings.join(' ')).toMatch(/missing: code.*unknown: cdoe/);

    const injected = await preview(account.sender, { templateId: id, variables: { name: 'viagra', code: 1 } });
    expect(injected.sensitiveWords).toEqual(['viagra']);

    const draft = await createDraft(account.sender, 'Draft {{x}}');
    const ofDraft = await preview(account.sender, { templateId: draft.id, variables: { x: 'y' } });
    expect(ofDraft.body).toBe('Draft y');
    expect(ofDraft.warnings.join(' ')).toContain('DRAFT');

    // Another account's template is not found.
    const other = await t.seedAccount();
    const foreign = await other.sender(PREVIEW, { input: { templateId: id, variables: { name: 'x', code: 1 } } });
    expect(foreign.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});
