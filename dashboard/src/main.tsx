// The console's shell: sign in with an API key (kept in sessionStorage: gone when the tab
// closes, checked with `viewer` before anything is shown), the navigation, the language switch
// and the live badge; the pages route inside /dashboard (preact-iso).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { closeWs, gql, onLive, startLive, storedKey, storeKey } from './api.js';
import { lang, setLang, t, type Lang } from './i18n.js';
import { OptOuts, Senders, Verifications } from './pages/account.js';
import { Budgets } from './pages/budgets.js';
import { Inbox } from './pages/inbox.js';
import { Keys } from './pages/keys.js';
import { Messages, MESSAGE_FIELDS } from './pages/messages.js';
import { Providers } from './pages/providers.js';
import { Send } from './pages/send.js';
import { Stats } from './pages/stats.js';
import { Templates } from './pages/templates.js';
import { Webhooks } from './pages/webhooks.js';

export interface Viewer { account: { name: string }; apiKey: { role: string; name: string } }

const PAGES: { path: string; label: string }[] = [
  { path: '/dashboard', label: 'messages' },
  { path: '/dashboard/send', label: 'send' },
  { path: '/dashboard/stats', label: 'stats' },
  { path: '/dashboard/templates', label: 'templates' },
  { path: '/dashboard/inbox', label: 'inbox' },
  { path: '/dashboard/providers', label: 'providers' },
  { path: '/dashboard/keys', label: 'keys' },
  { path: '/dashboard/budgets', label: 'budgets' },
  { path: '/dashboard/optouts', label: 'optOuts' },
  { path: '/dashboard/senders', label: 'senders' },
  { path: '/dashboard/webhooks', label: 'webhooks' },
  { path: '/dashboard/verifications', label: 'verifications' },
];

function SignIn({ onViewer }: { onViewer: (v: Viewer) => void }) {
  const [error, setError] = useState('');
  const open = async () => {
    try {
      onViewer((await gql<{ viewer: Viewer }>('{ viewer { account { name } apiKey { name role } } }')).viewer);
    } catch (e) {
      storeKey(null);
      setError(t('refused', { reason: (e as Error).message }));
    }
  };
  useEffect(() => void (storedKey() && open()), []);
  return (
    <form id="sign-in" class="card narrow" onSubmit={(event) => {
      event.preventDefault();
      const key = String(new FormData(event.currentTarget).get('key') ?? '').trim();
      if (!key) return;
      storeKey(key);
      void open();
    }}>
      <h2>{t('signIn')}</h2>
      <label>{t('apiKey')} <input name="key" type="password" autocomplete="off" placeholder="hk_…" required /></label>
      <button type="submit">{t('signIn')}</button>
      <p class="err" id="sign-in-error" role="alert">{error}</p>
    </form>
  );
}

function LiveBadge() {
  const [live, setLiveState] = useState(false);
  useEffect(() => onLive(setLiveState), []);
  return <span id="live" class="badge" data-state={live ? 'on' : 'off'}>{live ? t('live') : t('offline')}</span>;
}

const NotFound = () => <p>{t('notFound')}</p>;

function Nav() {
  const { path } = useLocation();
  return (
    <nav aria-label={t('nav')}>
      {PAGES.map((p) => (
        <a key={p.path} href={p.path} data-page={p.label} aria-current={path === p.path ? 'page' : undefined}>{t(p.label)}</a>
      ))}
    </nav>
  );
}

function App() {
  const [viewer, setViewer] = useState<Viewer | null>(null);
  const [current, setCurrent] = useState<Lang>(lang());
  useEffect(() => void setLang(current), []);
  useEffect(() => {
    if (viewer) startLive(MESSAGE_FIELDS);
  }, [viewer]);
  const admin = viewer?.apiKey.role === 'ADMIN';
  const switcher = (
    <label class="lang">
      <span class="sr-only">{t('language')}</span>
      <select id="lang" aria-label={t('language')} value={current} onChange={async (e) => {
        const next = e.currentTarget.value as Lang;
        await setLang(next);
        setCurrent(next);
      }}>
        <option value="zh">中文</option>
        <option value="en">English</option>
      </select>
    </label>
  );
  return (
    <LocationProvider scope="/dashboard">
      <header>
        <h1>Herald</h1>
        {viewer && <span id="account" data-testid="account">{`${viewer.account.name} · ${viewer.apiKey.name} (${viewer.apiKey.role})`}</span>}
        {viewer && <LiveBadge />}
        <span class="spacer" />
        {switcher}
        {viewer && (
          <button id="sign-out" type="button" onClick={() => {
            storeKey(null);
            closeWs();
            location.assign('/dashboard');
          }}>{t('signOut')}</button>
        )}
      </header>
      {!viewer ? <SignIn onViewer={setViewer} /> : (
        <div class="layout">
          <Nav />
          <main id="app">
            <Router>
              {/* `lang` is passed so the router re-renders the page in the new language (it
                  memoises routes by their props); `admin` tells whether reviews, keys… are allowed. */}
              <Route path="/dashboard" component={Messages} lang={current} />
              <Route path="/dashboard/send" component={Send} lang={current} />
              <Route path="/dashboard/stats" component={Stats} lang={current} />
              <Route path="/dashboard/templates" component={Templates} lang={current} admin={admin} />
              <Route path="/dashboard/inbox" component={Inbox} lang={current} />
              <Route path="/dashboard/providers" component={Providers} lang={current} admin={admin} />
              <Route path="/dashboard/keys" component={Keys} lang={current} admin={admin} />
              <Route path="/dashboard/budgets" component={Budgets} lang={current} admin={admin} />
              <Route path="/dashboard/optouts" component={OptOuts} lang={current} />
              <Route path="/dashboard/senders" component={Senders} lang={current} admin={admin} />
              <Route path="/dashboard/webhooks" component={Webhooks} lang={current} admin={admin} />
              <Route path="/dashboard/verifications" component={Verifications} lang={current} />
              <Route default component={NotFound} lang={current} />
            </Router>
          </main>
        </div>
      )}
    </LocationProvider>
  );
}

render(<App />, document.getElementById('root')!);
