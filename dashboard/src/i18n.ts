// Chinese and English. Each page brings its own i18next namespace (`addPage`), so a page's words
// live next to its code; the shell's are here. The language defaults to the browser's
// (navigator.language: zh* → Chinese, else English) and the switch is remembered in localStorage.
// Dates and numbers go through Intl in the chosen locale, never hand-formatted.
import i18next from 'i18next';

export type Lang = 'en' | 'zh';
type Words = Record<string, string>;
const LANG_KEY = 'herald.lang';

export const detectLang = (): Lang => {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved === 'en' || saved === 'zh') return saved;
  return (navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';
};

const shell: Record<Lang, Words> = {
  en: {
    title: 'Herald console', signIn: 'Sign in', apiKey: 'API key', signOut: 'Sign out', refused: 'Sign-in refused: {{reason}}',
    live: 'live', offline: 'offline', language: 'Language', nav: 'Sections',
    messages: 'Messages', send: 'Send', stats: 'Stats', templates: 'Templates', keys: 'API keys', providers: 'Providers', inbox: 'Inbox',
    budgets: 'Budgets', optOuts: 'Opt-outs', senders: 'Sender ids', webhooks: 'Webhooks', verifications: 'Verifications',
    notFound: 'No such page.', loading: 'Loading…', error: 'Error: {{message}}', unreachable: 'Herald could not be reached', adminOnly: 'This needs an ADMIN key.',
  },
  zh: {
    title: 'Herald 控制台', signIn: '登录', apiKey: 'API 密钥', signOut: '退出', refused: '登录被拒绝：{{reason}}',
    live: '实时', offline: '离线', language: '语言', nav: '栏目',
    messages: '消息记录', send: '发送', stats: '统计', templates: '模板', keys: 'API 密钥', providers: '通道', inbox: '会话',
    budgets: '预算', optOuts: '退订名单', senders: '发送方身份', webhooks: 'Webhook', verifications: '验证码',
    notFound: '页面不存在。', loading: '加载中…', error: '错误：{{message}}', unreachable: '无法连接 Herald', adminOnly: '需要 ADMIN 密钥。',
  },
};

void i18next.init({
  lng: detectLang(),
  fallbackLng: 'en',
  defaultNS: 'shell',
  ns: ['shell'],
  resources: { en: { shell: shell.en }, zh: { shell: shell.zh } },
  interpolation: { escapeValue: false }, // Preact escapes text itself
  initImmediate: false,
} as Parameters<typeof i18next.init>[0]);

/** Registers one page's words under its own namespace; `t` is then bound to it. */
export function addPage(ns: string, words: Record<Lang, Words>): (key: string, options?: Record<string, unknown>) => string {
  for (const lang of ['en', 'zh'] as const) i18next.addResourceBundle(lang, ns, words[lang], true, true);
  return (key, options) => i18next.t(key, { ns, ...options }) as string;
}

export const t = (key: string, options?: Record<string, unknown>): string => i18next.t(key, { ns: 'shell', ...options }) as string;
export const lang = (): Lang => (i18next.language === 'zh' ? 'zh' : 'en');
export const locale = (): string => (lang() === 'zh' ? 'zh-CN' : 'en-US');

export async function setLang(next: Lang): Promise<void> {
  localStorage.setItem(LANG_KEY, next);
  await i18next.changeLanguage(next);
  document.documentElement.lang = locale();
  document.title = t('title');
}

export const fmtDateTime = (iso: string | null | undefined): string =>
  iso ? new Intl.DateTimeFormat(locale(), { dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso)) : '';
export const fmtTime = (iso: string | null | undefined): string =>
  iso ? new Intl.DateTimeFormat(locale(), { timeStyle: 'medium' }).format(new Date(iso)) : '';
export const fmtDay = (date: Date): string => new Intl.DateTimeFormat(locale(), { month: 'short', day: 'numeric' }).format(date);
export const fmtNumber = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined ? '' : new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(n);
export const fmtPercent = (ratio: number | null | undefined): string =>
  ratio === null || ratio === undefined ? '' : new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(ratio);
/** Money arrives as an exact decimal string: shown with its currency without passing through a float when it can't be exact. */
export const fmtMoney = (m: { amount: string; currency: string } | null | undefined): string => {
  if (!m) return '';
  const n = Number(m.amount);
  // Intl wants a number; amounts of more than 15 significant digits are shown as sent.
  if (m.amount.replace(/[^0-9]/g, '').length > 15) return `${m.amount} ${m.currency}`;
  try {
    return new Intl.NumberFormat(locale(), { style: 'currency', currency: m.currency, maximumFractionDigits: 6 }).format(n);
  } catch {
    return `${m.amount} ${m.currency}`;
  }
};
/** A country's name in the chosen language ("US" → "United States" / "美国"); `fallback` (the server's
 * English label) or the code itself when Intl does not name it. */
const regionNames = new Map<string, Intl.DisplayNames>();
export const fmtCountry = (code: string, fallback?: string | null): string => {
  const loc = locale();
  if (!regionNames.has(loc)) regionNames.set(loc, new Intl.DisplayNames([loc], { type: 'region', fallback: 'none' }));
  try {
    const name = regionNames.get(loc)!.of(code);
    if (name) return name;
  } catch {
    // Not a region code Intl accepts (the server's "ZZ" is one it does): the fallback.
  }
  return fallback ?? code;
};
