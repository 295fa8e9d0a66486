import { replayVariants } from '../helpers.js';

replayVariants(['cost+peak+fo2', 'full']);
