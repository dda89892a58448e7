// Measurement: latency histograms, throughput series, server sampling, HTTP load.
export * from './latency.ts';
export * from './series.ts';
export * from './prometheus.ts';
export * from './redis-info.ts';
export * from './sampler.ts';
export * from './http-load.ts';
export * from './from-facts.ts';
