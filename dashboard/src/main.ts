// Entry point: sign in with an API key (kept in sessionStorage: gone when the tab closes),
// then start every panel. The key is checked with `viewer` before anything else is shown.
import { closeWs, gql, storedKey, storeKey } from './api.js';
import { $ } from './dom.js';
import { startMessages } from './messages.js';
import { startSendForm } from './send.js';
import { loadStats } from './stats.js';
import { loadTemplates } from './templates.js';

const signIn = $<HTMLFormElement>('#sign-in');

function setLive(live: boolean): void {
  const badge = $('#live');
  badge.dataset.state = live ? 'on' : 'off';
  badge.textContent = live ? 'live' : 'offline';
}

async function open(): Promise<boolean> {
  let viewer: { account: { name: string }; apiKey: { role: string; name: string } };
  try {
    viewer = (await gql('{ viewer { account { name } apiKey { name role } } }')).viewer;
  } catch (error) {
    $('#sign-in-error').textContent = `Sign-in refused: ${(error as Error).message}`;
    storeKey(null);
    return false;
  }
  $('#account').textContent = `${viewer.account.name} · ${viewer.apiKey.name} (${viewer.apiKey.role})`;
  signIn.hidden = true;
  $('#app').hidden = false;
  $('#sign-out').hidden = false;
  // The side panels must not take the page down with them.
  const refreshStats = () => void loadStats().catch((e: Error) => ($('#stats').textContent = e.message));
  let statsTimer: ReturnType<typeof setTimeout> | undefined;
  // Live changes redraw the charts, at most about once a second whatever the traffic.
  startMessages(setLive, () => (statsTimer ??= setTimeout(() => ((statsTimer = undefined), refreshStats()), 1000)));
  startSendForm();
  void loadTemplates(viewer.apiKey.role === 'ADMIN').catch((e: Error) => ($('#templates').textContent = e.message));
  refreshStats();
  return true;
}

signIn.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = String(new FormData(signIn).get('key') ?? '').trim();
  if (!key) return;
  storeKey(key);
  void open();
});

$('#sign-out').addEventListener('click', () => {
  storeKey(null);
  closeWs();
  location.reload();
});

if (storedKey()) void open();
