#!/usr/bin/env node
import { main } from './main.js';

// The installed `rescoin` command: main() does the work and returns the exit code.
process.exitCode = await main(process.argv.slice(2));
