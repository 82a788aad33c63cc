// Public entry of the portable runner.
export { createRunnerMetrics, isDeadLetterTopic, type RunnerMetricsSnapshot } from './metrics.ts';
export { createTransformRunner } from './runner.ts';
export type { TransformRunner, TransformRunnerOptions } from './types.ts';
