/**
 * The parts of undici the gate loads, by their own paths: undici's index also loads fetch, web
 * sockets, caches and mocks, about 10 MB of an idle gate's memory that nothing here uses. Typed
 * with undici's own declarations.
 */
declare module 'undici/lib/dispatcher/pool.js' {
  import { Pool } from 'undici';
  export = Pool;
}

declare module 'undici/lib/dispatcher/agent.js' {
  import { Agent } from 'undici';
  export = Agent;
}

declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';
  function request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  export = request;
}
