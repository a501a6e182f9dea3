import { Fragment, useEffect, useRef } from 'react';
import { Icon } from '../components/Icon.js';
import { useToast } from '../components/Toast.js';
import { useI18n } from '../i18n/context.js';
import { useNow } from '../lib/use-now.js';
import { useGateState } from '../state.js';

/**
 * Says plainly when the page has lost its gate, and what happens next: it is trying again (when),
 * or the gate refuses this page's token and the user must open the admin link again. Coming back
 * is announced with a toast. Only the first line is an alert, so the countdown is not read out
 * every second.
 */
export function ConnectionBanner({ onRetry }: { onRetry: () => void }) {
  const { t } = useI18n();
  const toast = useToast();
  const { connection, reconnected } = useGateState();
  const announced = useRef(reconnected);

  useEffect(() => {
    if (reconnected === announced.current) return;
    announced.current = reconnected;
    toast.show(t('shell.reconnected'), 'ok');
  }, [reconnected, toast, t]);

  if (connection.state === 'connected') return null;
  if (connection.state === 'refused') {
    return (
      <div className="connection-banner refused">
        <Icon name="disconnected" className="banner-icon" />
        <div className="banner-text">
          <p className="banner-title" role="alert">
            {t('shell.refused')}
          </p>
          <p>{withCode(t('shell.refusedHow'))}</p>
        </div>
        <button type="button" className="button small" onClick={onRetry}>
          {t('shell.tryAgain')}
        </button>
      </div>
    );
  }
  return (
    <div className="connection-banner lost">
      <Icon name="disconnected" className="banner-icon" />
      <div className="banner-text">
        <p className="banner-title" role="alert">
          {t('shell.lost')}
        </p>
        <p>
          {t('shell.lostDetail')} <NextTry retryAt={connection.retryAt} />
        </p>
      </div>
      <button type="button" className="button small" onClick={onRetry}>
        {t('shell.retryNow')}
      </button>
    </div>
  );
}

/** "Trying again in 4 s.", counted down; ticks only while it is shown. */
function NextTry({ retryAt }: { retryAt: number }) {
  const { t } = useI18n();
  useNow(500);
  // The time is read fresh when drawing; the tick only asks for the drawing.
  const seconds = Math.ceil((retryAt - Date.now()) / 1000);
  return <>{seconds > 0 ? t('shell.nextTry', { seconds }) : t('shell.tryingNow')}</>;
}

/** `a command` in a message becomes <code>. */
function withCode(text: string) {
  return text.split('`').map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : <Fragment key={i}>{part}</Fragment>));
}
