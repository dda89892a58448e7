// The public entry of the `imstorm` package: what a scenario file of your own imports,
// e.g. `import { defineScenario } from 'imstorm';` (a file anywhere in this repository; a
// project that installs imstorm as a dependency imports the same).
export { defineScenario, scenarioSchema, faultStep, type FaultStep, type Scenario, type ScenarioInput } from './scenario/define.ts';
export { runScenario, RunSetupError, type RunOptions, type RunResult, type LiveProgress } from './scenario/run.ts';
export { workloadSchema, deviceGroupSchema, stageSchema, bodySizeSchema, ackModeSchema, clientModeSchema, type Workload, type DeviceGroup, type Stage, type BodySize, type AckMode, type ClientMode } from './fleet/workload.ts';
export { GUARANTEES, type Guarantee } from './model/guarantees.ts';
export { LiveMetricsServer, LiveMetricsError, type LiveMetricsOptions, type LiveRun } from './live/metrics-server.ts';
export { loadRecorded, RecordedFileError } from './fleet/recorded-file.ts';
