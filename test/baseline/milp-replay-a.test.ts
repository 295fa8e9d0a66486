import { replayVariants } from '../helpers.js';

// Split from milp-replay-b so that the two halves run in parallel workers.
replayVariants(['cost', 'cost+peak']);
