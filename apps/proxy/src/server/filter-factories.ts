import type { NetworkFilterFactory } from '@il/core';
import { httpConnectionManagerFactory } from '@il/http-connect';
import { tcpProxyFactory } from '@il/tcp-proxy';

/** Every network filter il-proxy can run, by config type URL. */
export function networkFilterFactories(): NetworkFilterFactory[] {
  return [tcpProxyFactory(), httpConnectionManagerFactory()];
}
