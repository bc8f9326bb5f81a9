// The text a code is sent in: Herald's built-in wording (English, Chinese), or an account's
// own APPROVED OTP template using {{code}} and optionally {{minutes}}.
import { ValidationError } from './errors.js';
import type { TemplateCategory } from './templates.js';

export type OtpLocale = 'en' | 'zh';
export const OTP_LOCALES: readonly OtpLocale[] = ['en', 'zh'];

/** The variables Herald fills in an OTP template; any other would be left without a value. */
export const OTP_TEMPLATE_VARIABLES = ['code', 'minutes'] as const;

/**
 * The language of the built-in text: the `locale` asked for (its language subtag: zh-CN,
 * zh-Hans and zh are all Chinese), else Chinese for +86 numbers and English for the rest.
 */
export function chooseOtpLocale(locale: string | null, e164: string): OtpLocale | ValidationError {
  if (locale === null) return e164.startsWith('+86') ? 'zh' : 'en';
  const language = locale.split(/[-_]/)[0].toLowerCase();
  if ((OTP_LOCALES as readonly string[]).includes(language)) return language as OtpLocale;
  return new ValidationError([{ path: ['input', 'locale'], message: `the built-in text is available in ${OTP_LOCALES.join(', ')}; use your own OTP template for other languages` }]);
}

/** Whole minutes a code stays valid, as promised in the text: rounded down, never above the truth. */
export function ttlMinutes(ttlSeconds: number): number {
  return Math.max(1, Math.floor(ttlSeconds / 60));
}

/** Herald's own text, for accounts that did not pass a template. */
export function renderDefaultOtpBody(locale: OtpLocale, code: string, ttlSeconds: number): string {
  const minutes = ttlMinutes(ttlSeconds);
  switch (locale) {
    case 'en':
      return `Your verification code is ${code}. It expires in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`;
    case 'zh':
      return `您的验证码是${code}，${minutes}分钟内有效。`;
  }
}

/**
 * Whether an approved template can carry a code: an OTP template (so OTP limits and the OTP
 * opt-out rule apply to it) with {{code}}, and no variable Herald cannot fill.
 */
export function checkOtpTemplate(template: { category: TemplateCategory; variables: readonly string[] }): ValidationError | undefined {
  const path = ['input', 'templateId'];
  const issues = [];
  if (template.category !== 'OTP') issues.push({ path, message: `must be an OTP template (this one is ${template.category})` });
  if (!template.variables.includes('code')) issues.push({ path, message: 'the template must contain {{code}}' });
  const others = template.variables.filter((v) => !(OTP_TEMPLATE_VARIABLES as readonly string[]).includes(v));
  if (others.length) issues.push({ path, message: `the template may only use {{code}} and {{minutes}}; it also uses ${others.map((v) => `{{${v}}}`).join(', ')}` });
  return issues.length ? new ValidationError(issues) : undefined;
}

/** The values for an OTP template: exactly the variables it uses. */
export function otpTemplateValues(variables: readonly string[], code: string, ttlSeconds: number): Record<string, string | number> {
  const values: Record<string, string | number> = { code };
  if (variables.includes('minutes')) values.minutes = ttlMinutes(ttlSeconds);
  return values;
}
