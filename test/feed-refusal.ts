import { FeedValidationError } from '../subgraphs/kit/feed.js';

/** The FeedValidationError that `read` must throw; fails the test when the feed is accepted. */
export function refusal(read: () => unknown): FeedValidationError {
  try {
    read();
  } catch (error) {
    if (error instanceof FeedValidationError) return error;
    throw error;
  }
  throw new Error('the feed was accepted');
}
