// Opt-out, opt-in and help keywords in replies from handsets. Carriers (CTIA in the US, MIIT
// in China) require a sender to honour them; Twilio, Aliyun and Tencent recognise the same
// words. Pure: classifying a body touches nothing.

export const keywordActions = ['STOP', 'START', 'HELP'] as const;

/** What a keyword asks for: leave the list, join it again, or get the help text. */
export type KeywordAction = (typeof keywordActions)[number];

/**
 * The words of each action, upper-case and NFKC-normalised. `TD`, `T`, 退订 and 取消 are the
 * unsubscribe replies Chinese carriers and the big platforms recognise (回复TD退订).
 */
export const keywordWords: Readonly<Record<KeywordAction, readonly string[]>> = {
  STOP: ['STOP', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'TD', 'T', '退订', '取消'],
  START: ['START', 'UNSTOP', 'YES'],
  HELP: ['HELP'],
};

const actionByWord = new Map<string, KeywordAction>(
  keywordActions.flatMap((action) => keywordWords[action].map((word) => [word, action] as const)),
);

/**
 * The body as a keyword is compared: NFKC (full-width ＳＴＯＰ and the ideographic space become
 * ASCII), surrounding whitespace and punctuation dropped ("Stop." and "退订。" are meant as
 * keywords), upper-cased.
 */
export function normalizeKeyword(body: string): string {
  return body
    .normalize('NFKC')
    .replace(/^[\s\p{P}]+|[\s\p{P}]+$/gu, '')
    .toUpperCase();
}

/**
 * The action a reply asks for, or undefined. Only a body that is the keyword alone counts, as
 * carriers specify: "please don't stop" or "T-shirt" must not opt anyone out.
 */
export function classifyKeyword(body: string): KeywordAction | undefined {
  return actionByWord.get(normalizeKeyword(body));
}
