/**
 * Stand-alone entry for the simulator until bin/holdline.ts wires `holdline simulate`:
 * `npx tsx bench/simulate.ts --url … --viewers 500 …`.
 */
import { runSimulateCli } from '../lib/simulator/index.js';

process.exitCode = await runSimulateCli(process.argv.slice(2));
