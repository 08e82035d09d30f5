import { useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Session } from '../protocol.js';
import { createApi } from './api.js';
import { AudiencePage } from './AudiencePage.js';
import { ComposePage } from './ComposePage.js';
import { Link } from './Link.js';
import { MessagePage } from './MessagePage.js';
import { MessagesPage } from './MessagesPage.js';
import { OverviewPage } from './OverviewPage.js';
import { useLocation } from './router.js';

export interface PageProps {
  base: string;
  api: ReturnType<typeof createApi>;
  url: URL;
  onSession(session: Session): void;
  session: Session | undefined;
}

const NAV = [
  ['', 'Overview'],
  ['/messages', 'Messages'],
  ['/audience', 'Audience'],
  ['/compose', 'Compose'],
] as const;

/** The frame of every page: a skip link, the navigation, who is looking, and the page the URL names. */
export function App({ base }: { base: string }) {
  const url = useLocation();
  const api = useMemo(() => createApi(base), [base]);
  const [session, setSession] = useState<Session>();
  const main = useRef<HTMLElement>(null);
  const path = url.pathname.slice(base.length).replace(/\/$/, '');
  const section = path.startsWith('/messages') ? '/messages' : path;

  // After a navigation in the page, focus moves to the new page's heading, as a page
  // load would for keyboard and screen-reader users: in the same commit as the new page
  // (a layout effect), so no key pressed before the next paint lands on the old focus.
  const first = useRef(true);
  useLayoutEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [url.href]);

  const props: PageProps = { base, api, url, onSession: setSession, session };
  const message = /^\/messages\/(.+)$/.exec(path);
  let page;
  if (path === '') page = <OverviewPage {...props} />;
  else if (path === '/messages') page = <MessagesPage {...props} />;
  else if (message) page = <MessagePage {...props} id={decodeURIComponent(message[1]!)} />;
  else if (path === '/audience') page = <AudiencePage {...props} />;
  else if (path === '/compose') page = <ComposePage {...props} />;
  else page = <h1>Not found</h1>;

  return (
    <>
      <a class="skip" href="#main">
        Skip to the page
      </a>
      <header class="top">
        <span class="brand">tidings</span>
        <nav aria-label="Dashboard">
          <ul>
            {NAV.map(([to, label]) => (
              <li key={to}>
                <Link href={`${base}${to || '/'}`} current={section === to}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        {session && (
          <span class="viewer">
            <span class="muted">Signed in as </span>
            {session.viewer}
          </span>
        )}
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {page}
      </main>
    </>
  );
}
