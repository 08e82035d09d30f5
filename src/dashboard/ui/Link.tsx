import type { ComponentChildren } from 'preact';
import { isPlainClick, navigate } from './router.js';

interface LinkProps {
  href: string;
  children: ComponentChildren;
  class?: string;
  current?: boolean;
}

/** A link to another dashboard page: a real `<a href>` (new tabs, bookmarks), followed in place on a plain click. */
export function Link({ href, children, class: className, current }: LinkProps) {
  return (
    <a
      href={href}
      class={className}
      aria-current={current ? 'page' : undefined}
      onClick={(event) => {
        if (!isPlainClick(event)) return;
        event.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}
