/** Time as the core sees it; tests inject their own to move it forward. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
