// Small shared pieces: loading a query into state, and showing its failure.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { t } from './i18n.js';

export { failure, formErrors, type UnionResult } from './errors.js';

export interface Loaded<T> { data: T | null; error: string | null; loading: boolean; reload: () => void }

/** Runs `load` now and whenever `deps` change; `reload` runs it again. A slower older answer
 * never overwrites a newer one. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, error: null, loading: false }),
      (e: Error) => current && setState({ data: null, error: e.message, loading: false }),
    );
    return () => void (current = false);
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}

export function Status({ loaded }: { loaded: Loaded<unknown> }) {
  if (loaded.error) return <p class="err" role="alert">{t('error', { message: loaded.error })}</p>;
  if (loaded.loading && !loaded.data) return <p class="muted">{t('loading')}</p>;
  return null;
}

/** A field's error under it, tied to its input by `aria-describedby` (id `${id}-error`). */
export function FieldError({ id, text }: { id: string; text?: string }) {
  return text ? <span class="err field-error" id={`${id}-error`} role="alert" data-testid={`${id}-error`}>{text}</span> : null;
}

/** What the shell passes to every page: the language (so the router re-renders it on a switch)
 * and whether the key is ADMIN. */
export interface PageProps { lang?: string; admin?: boolean }

/** A table in its own horizontal scroll area (so a wide one never widens a 375 px page). */
export function DataTable({ id, heads, children }: { id: string; heads: string[]; children: ComponentChildren }) {
  return (
    <div class="scroll">
      <table id={id}>
        <thead><tr>{heads.map((h, i) => <th key={i}>{h}</th>)}</tr></thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** "Are you sure?" in place of the button that asked: the question, then Confirm and Cancel. Focus
 * moves to Cancel when it appears (the button that had it is gone, and a keyboard user must not be
 * sent back to the top of the page; Cancel is the safe one to land on). */
export function Confirm({ question, confirm, cancel, onConfirm, onCancel }: { question: string; confirm: string; cancel: string; onConfirm: () => void; onCancel: () => void }) {
  const cancelButton = useRef<HTMLButtonElement>(null);
  useEffect(() => cancelButton.current?.focus(), []);
  return (
    <span class="confirm" role="group" aria-label={question}>
      {question}{' '}
      <button type="button" class="danger" onClick={onConfirm}>{confirm}</button>{' '}
      <button type="button" ref={cancelButton} onClick={onCancel}>{cancel}</button>
    </span>
  );
}
