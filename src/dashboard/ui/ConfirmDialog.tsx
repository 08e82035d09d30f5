import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

interface ConfirmProps {
  title: string;
  confirm: string;
  dismiss: string;
  children: ComponentChildren;
  /** true when confirmed; false on dismiss, Escape or closing. */
  onClose(confirmed: boolean): void;
}

/** A modal question (the platform's `<dialog>`: focus kept inside, Escape dismisses). */
export function ConfirmDialog({ title, confirm, dismiss, children, onClose }: ConfirmProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const answered = useRef(false);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const close = (yes: boolean) => {
    if (answered.current) return;
    answered.current = true;
    dialog.current?.close();
    onClose(yes);
  };
  return (
    <dialog ref={dialog} aria-labelledby="confirm-title" onCancel={() => close(false)} onClose={() => close(false)}>
      <h2 id="confirm-title">{title}</h2>
      {children}
      <div class="buttons">
        <button type="button" onClick={() => close(false)}>
          {dismiss}
        </button>
        <button type="button" class="primary" onClick={() => close(true)}>
          {confirm}
        </button>
      </div>
    </dialog>
  );
}
