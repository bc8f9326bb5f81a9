// The template review queue: PENDING_REVIEW templates, approved or rejected by ADMIN keys.
import { gql } from './api.js';
import { $, h } from './dom.js';

interface Pending { id: string; name: string; category: string; body: string; submittedAt: string | null }

const REVIEW = `mutation($id: ID!, $approve: Boolean!, $reason: String) { reviewTemplate(id: $id, approve: $approve, reason: $reason) {
  ... on ReviewTemplateSuccess { data { id status } }
  ... on Error { code message }
} }`;

export async function loadTemplates(isAdmin: boolean): Promise<void> {
  const panel = $('#templates');
  const data = await gql<{ templates: { edges: { node: Pending }[] } }>(
    `{ templates(status: PENDING_REVIEW, first: 50) { edges { node { id name category body submittedAt } } } }`);
  const pending = data.templates.edges.map((e) => e.node);
  if (!pending.length) return void panel.replaceChildren(h('p', { class: 'muted' }, 'No template waits for review.'));
  panel.replaceChildren(
    isAdmin ? '' : h('p', { class: 'muted' }, 'Reviewing needs an ADMIN key.'),
    ...pending.map((t) => {
      const outcome = h('span', {});
      const decide = async (approve: boolean) => {
        const reason = approve ? null : prompt(`Why is "${t.name}" rejected?`);
        if (!approve && !reason) return;
        const r = (await gql(REVIEW, { id: t.id, approve, reason })).reviewTemplate as { data?: { status: string }; code?: string; message?: string };
        if (r.data) return void loadTemplates(isAdmin);
        outcome.className = 'err';
        outcome.textContent = ` ${r.code}: ${r.message}`;
      };
      const button = (label: string, approve: boolean) => {
        const b = h('button', { type: 'button' }, label);
        b.disabled = !isAdmin;
        b.addEventListener('click', () => void decide(approve));
        return b;
      };
      return h('div', { class: 'template', 'data-id': t.id },
        h('strong', {}, t.name), h('span', { class: 'muted' }, ` ${t.category}`),
        h('pre', {}, t.body), button('Approve', true), ' ', button('Reject', false), outcome);
    }));
}
