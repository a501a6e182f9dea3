// autocannon ships no types; this declares the part of its programmatic API the bench uses.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface Options {
      url: string;
      method?: string;
      connections?: number;
      /** seconds */
      duration?: number;
      /** requests in all, instead of a duration */
      amount?: number;
      headers?: Record<string, string>;
      body?: string;
      /** seconds */
      timeout?: number;
    }
    interface Result {
      /** seconds, two decimals */
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      totalCompletedRequests: number;
    }
    /** Emits 'response' (client, statusCode, bytes, responseTimeMs) per answer; awaitable for the result. */
    interface Instance extends EventEmitter, PromiseLike<Result> {}
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;
  export = autocannon;
}
