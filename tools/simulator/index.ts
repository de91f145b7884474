/** The viewer simulator: `simulate()` for tests and the bench, `runSimulateCli()` for the CLI. */
export { simulate } from './simulate.js';
export { runSimulateCli, parseSimulateArgs } from './cli.js';
export { formatReport } from './report.js';
export type { SimulateOptions, SimulationReport, Phase, Progress, LatencySummary, ViewerProblem } from './options.js';
