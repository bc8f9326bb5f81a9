// The send form: a live preview (`previewMessage`) while typing, then `sendMessage`, whose
// expected failures are shown with their stable code.
import { ApiError, gql } from './api.js';
import { $, h } from './dom.js';

interface Preview { encoding: string; segments: number; characters: number; sensitiveWords: string[]; warnings: string[]; nonGsmCharacters: string[] }

const PREVIEW = `query($input: PreviewInput!) { previewMessage(input: $input) { encoding segments characters sensitiveWords warnings nonGsmCharacters } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  __typename
  ... on SendMessageSuccess { data { id status } }
  ... on Error { code message }
  ... on ValidationError { issues { message } }
} }`;

function renderPreview(p: Preview): HTMLElement[] {
  const parts: (HTMLElement | null)[] = [
    h('div', { 'data-testid': 'preview' },
      h('span', { 'data-testid': 'segments' }, `${p.segments} segment${p.segments === 1 ? '' : 's'}`),
      ` · ${p.characters} characters · ${p.encoding}`,
      p.nonGsmCharacters.length ? ` (because of ${p.nonGsmCharacters.join(' ')})` : ''),
    p.sensitiveWords.length ? h('div', { class: 'warn' }, `Sensitive words: ${p.sensitiveWords.join(', ')}`) : null,
    ...p.warnings.map((w) => h('div', { class: 'warn' }, w)),
  ];
  return parts.filter((n): n is HTMLElement => n !== null);
}

export function startSendForm(): void {
  const form = $<HTMLFormElement>('#send');
  const preview = $('#preview');
  const result = $('#send-result');
  let timer: ReturnType<typeof setTimeout> | undefined;
  let asked = 0;

  const refresh = async () => {
    const fields = new FormData(form);
    const body = String(fields.get('body') ?? '');
    const to = String(fields.get('to') ?? '').trim();
    if (!body) return void preview.replaceChildren();
    const mine = ++asked;
    try {
      const data = await gql<{ previewMessage: Preview }>(PREVIEW, { input: { body, ...(to ? { to } : {}) } });
      // Answers can cross: only the newest keystroke's preview is shown.
      if (mine === asked) preview.replaceChildren(...renderPreview(data.previewMessage));
    } catch (error) {
      if (mine === asked) preview.replaceChildren(h('div', { class: 'warn' }, (error as Error).message));
    }
  };
  form.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(), 200);
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = new FormData(form);
    result.className = '';
    result.textContent = 'Sending…';
    try {
      const data = await gql<{ sendMessage: { __typename: string; data?: { id: string; status: string }; code?: string; message?: string; issues?: { message: string }[] } }>(
        SEND, { input: { to: String(fields.get('to')), body: String(fields.get('body')) } });
      const r = data.sendMessage;
      if (r.data) {
        result.className = 'ok';
        result.textContent = `Accepted: ${r.data.status}`;
        (form.elements.namedItem('body') as HTMLTextAreaElement).value = '';
        preview.replaceChildren();
      } else {
        result.className = 'err';
        const details = r.issues?.map((i) => i.message).join('; ');
        result.textContent = `${r.code}: ${r.message}${details ? ` (${details})` : ''}`;
      }
    } catch (error) {
      result.className = 'err';
      result.textContent = error instanceof ApiError ? error.message : 'Herald could not be reached';
    }
  });
}
