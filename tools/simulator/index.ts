/** The viewer simulator: `simulate()` for tests and the bench, `runSimulation()` behind `holdline simulate`. */
export { SetupError, simulate } from './simulate.js';
export { judge, parseDuration, runSimulation, type SimulateOutcome, type SimulateTerminal } from './cli.js';
export { preflight, type PreflightProblem } from './preflight.js';
export { formatReport, failures } from './report.js';
export type { SimulateOptions, SimulationReport, Phase, Progress, LatencySummary, ViewerProblem } from './options.js';
